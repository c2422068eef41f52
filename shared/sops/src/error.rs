//! Why a document could not be decrypted. No message quotes a plaintext value.

/// A decryption failure; the caller adds which file or object it was.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    #[error("not valid {format}: {message}")]
    Syntax { format: &'static str, message: String },
    #[error("no sops metadata found")]
    NoMetadata,
    #[error("invalid sops metadata: {0}")]
    Metadata(String),
    #[error("{format} documents are not supported")]
    Unsupported { format: &'static str },
    #[error("cannot decrypt the value at '{path}': {message}")]
    Value { path: String, message: String },
    #[error("cannot verify the MAC: {0}")]
    Mac(String),
    #[error(
        "MAC mismatch: the document was changed after SOPS encrypted it (edit encrypted files with `sops`, not by hand)"
    )]
    MacMismatch,
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot write the decrypted document as {format}: {message}")]
    Emit { format: &'static str, message: String },
}

/// Why the data key could not be recovered, or a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "none of the decryption keys can recover the data key: the document is encrypted for {recipients}; the keys given are {available}"
    )]
    NoMatchingKey { recipients: String, available: String },
    #[error(
        "the data key is encrypted only for {providers}, which Weir does not support: add an age or pgp recipient to the document (sops updatekeys)"
    )]
    UnsupportedProviders { providers: String },
    #[error(
        "the document splits its data key over {0} key groups (Shamir secret sharing), which Weir does not support"
    )]
    Shamir(usize),
    #[error("the data key recovered with {recipient} is {len} bytes, not 32")]
    DataKeyLength { recipient: String, len: usize },
    #[error("invalid age identity: {0}")]
    InvalidAge(String),
    #[error("invalid OpenPGP private key: {0}")]
    InvalidPgp(String),
}
