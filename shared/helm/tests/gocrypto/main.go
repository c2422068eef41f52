// Checker for weir-helm's crypto functions: reads keys, certificates, bcrypt hashes and
// AES ciphertexts that weir-helm generated (JSON on stdin) and checks them with Go's
// crypto/x509, x/crypto/bcrypt and sprig's own decryptAES. Prints one line per problem
// and, last, "checked N".  Built in GOPATH mode against Debian's Go packages.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"text/template"
	"time"

	sprig "github.com/Masterminds/sprig"
	"golang.org/x/crypto/bcrypt"
)

type certCase struct {
	Name   string   `json:"name"`
	Cert   string   `json:"cert"`
	Key    string   `json:"key"`
	Issuer string   `json:"issuer"`
	CN     string   `json:"cn"`
	IPs    []string `json:"ips"`
	DNS    []string `json:"dns"`
	Days   int      `json:"days"`
	CA     bool     `json:"ca"`
	KeyPEM string   `json:"keyType"`
}

type keyCase struct {
	PEM  string `json:"pem"`
	Type string `json:"type"`
	Bits int    `json:"bits"`
}

type secretCase struct {
	Password string `json:"password"`
	Value    string `json:"value"`
	Plain    string `json:"plain"`
}

type input struct {
	Certs  []certCase   `json:"certs"`
	Keys   []keyCase    `json:"keys"`
	Bcrypt []secretCase `json:"bcrypt"`
	AES    []secretCase `json:"aes"`
}

var problems []string
var checked int

func check(ok bool, format string, args ...interface{}) {
	checked++
	if !ok {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
}

func parseKey(text string) (crypto.PrivateKey, string, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, "", fmt.Errorf("no PEM data")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		return k, block.Type, err
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		return k, block.Type, err
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		return k, block.Type, err
	}
	return nil, block.Type, fmt.Errorf("unexpected PEM type %s", block.Type)
}

func parseCert(text string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no CERTIFICATE block")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("data after the certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func checkCert(c certCase, all map[string]*x509.Certificate) {
	cert, err := parseCert(c.Cert)
	check(err == nil, "%s: certificate does not parse: %v", c.Name, err)
	if err != nil {
		return
	}
	all[c.Name] = cert
	check(cert.Subject.CommonName == c.CN, "%s: CN %q, want %q", c.Name, cert.Subject.CommonName, c.CN)
	check(cert.BasicConstraintsValid && cert.IsCA == c.CA, "%s: IsCA %v (valid %v), want %v", c.Name, cert.IsCA, cert.BasicConstraintsValid, c.CA)
	check(fmt.Sprint(cert.DNSNames) == fmt.Sprint(c.DNS), "%s: DNS %v, want %v", c.Name, cert.DNSNames, c.DNS)
	check(len(cert.IPAddresses) == len(c.IPs), "%s: IPs %v, want %v", c.Name, cert.IPAddresses, c.IPs)
	for i, ip := range c.IPs {
		if i < len(cert.IPAddresses) {
			check(cert.IPAddresses[i].Equal(net.ParseIP(ip)), "%s: IP %d is %v, want %s", c.Name, i, cert.IPAddresses[i], ip)
		}
	}
	valid := cert.NotAfter.Sub(cert.NotBefore)
	want := time.Duration(c.Days) * 24 * time.Hour
	check(valid >= want-2*time.Second && valid <= want+2*time.Second, "%s: valid for %v, want %v", c.Name, valid, want)
	check(time.Since(cert.NotBefore) < 10*time.Minute && time.Since(cert.NotBefore) > -time.Minute, "%s: NotBefore %v is not now", c.Name, cert.NotBefore)
	usage := x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature
	if c.CA {
		usage |= x509.KeyUsageCertSign
	}
	check(cert.KeyUsage == usage, "%s: key usage %b, want %b", c.Name, cert.KeyUsage, usage)
	check(len(cert.ExtKeyUsage) == 2 && cert.ExtKeyUsage[0] == x509.ExtKeyUsageServerAuth && cert.ExtKeyUsage[1] == x509.ExtKeyUsageClientAuth,
		"%s: ext key usage %v", c.Name, cert.ExtKeyUsage)
	check(cert.SerialNumber.Sign() > 0 && cert.SerialNumber.BitLen() <= 128, "%s: serial %v", c.Name, cert.SerialNumber)
	if c.CA {
		check(len(cert.SubjectKeyId) > 0, "%s: CA without a subject key id", c.Name)
	}
	key, typ, err := parseKey(c.Key)
	check(err == nil, "%s: key does not parse: %v", c.Name, err)
	if err == nil {
		check(typ == c.KeyPEM, "%s: key PEM type %s, want %s", c.Name, typ, c.KeyPEM)
		pub := key.(interface{ Public() crypto.PublicKey }).Public()
		check(pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey), "%s: key does not match the certificate", c.Name)
	}
	if c.Issuer == "" {
		err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature)
		check(err == nil, "%s: self-signature does not verify: %v", c.Name, err)
		return
	}
	issuer := all[c.Issuer]
	check(issuer != nil, "%s: issuer %s not checked before", c.Name, c.Issuer)
	if issuer == nil {
		return
	}
	check(cert.CheckSignatureFrom(issuer) == nil, "%s: not signed by %s: %v", c.Name, c.Issuer, cert.CheckSignatureFrom(issuer))
	check(bytes.Equal(cert.RawIssuer, issuer.RawSubject), "%s: issuer name differs from %s's subject", c.Name, c.Issuer)
	check(bytes.Equal(cert.AuthorityKeyId, issuer.SubjectKeyId), "%s: authority key id %x, want %x", c.Name, cert.AuthorityKeyId, issuer.SubjectKeyId)
	roots := x509.NewCertPool()
	roots.AddCert(issuer)
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	check(err == nil, "%s: chain to %s does not verify: %v", c.Name, c.Issuer, err)
}

func checkKey(k keyCase) {
	key, typ, err := parseKey(k.PEM)
	check(err == nil, "%s key does not parse: %v", k.Type, err)
	if err != nil {
		return
	}
	switch key := key.(type) {
	case *rsa.PrivateKey:
		check(k.Type == "rsa" && typ == "RSA PRIVATE KEY" && key.N.BitLen() == k.Bits, "rsa key: %s %d bits", typ, key.N.BitLen())
		check(key.Validate() == nil, "rsa key invalid: %v", key.Validate())
	case *ecdsa.PrivateKey:
		check(k.Type == "ecdsa" && typ == "EC PRIVATE KEY" && key.Curve.Params().Name == "P-256", "ecdsa key: %s %s", typ, key.Curve.Params().Name)
	case ed25519.PrivateKey:
		check(k.Type == "ed25519" && typ == "PRIVATE KEY", "ed25519 key: %s", typ)
	default:
		check(false, "%s: unexpected key %T", k.Type, key)
	}
}

func sprigDecrypt(password, value string) (string, error) {
	t := template.Must(template.New("t").Funcs(sprig.TxtFuncMap()).Parse(`{{ decryptAES .p .v }}`))
	var b bytes.Buffer
	err := t.Execute(&b, map[string]string{"p": password, "v": value})
	return b.String(), err
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Println("decoding input:", err)
		os.Exit(2)
	}
	all := map[string]*x509.Certificate{}
	for _, c := range in.Certs {
		checkCert(c, all)
	}
	for _, k := range in.Keys {
		checkKey(k)
	}
	for _, b := range in.Bcrypt {
		err := bcrypt.CompareHashAndPassword([]byte(b.Value), []byte(b.Plain))
		check(err == nil, "bcrypt hash %q of %q does not verify: %v", b.Value, b.Plain, err)
	}
	for _, a := range in.AES {
		got, err := sprigDecrypt(a.Password, a.Value)
		check(err == nil && got == a.Plain, "decryptAES(%q) = %q, %v; want %q", a.Value, got, err, a.Plain)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Printf("checked %d\n", checked)
}
