//! `weir template [NAME] CHART`: renders a chart locally exactly as `helm template` does.

pub mod output;
pub mod values;

use std::path::Path;

use anyhow::anyhow;
use weir_helm::chart::Chart;
use weir_helm::render::{KubeVersion, Options, RenderError, render};
use weir_helm::template::{Map, Template, Value};

use output::{OutputOptions, write_rendered};
use values::ValuesArgs;

/// Helm's `helm template` default release name.
const DEFAULT_RELEASE_NAME: &str = "release-name";
/// Helm's maximum release name length.
const MAX_RELEASE_NAME_LEN: usize = 53;

#[derive(clap::Args, Debug)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: the release name (default "release-name") and a chart directory or .tgz.
    #[arg(value_name = "NAME|CHART", num_args = 1.., required = true)]
    args: Vec<String>,
    /// Accepted for Helm compatibility: `helm template` keeps "release-name" with it.
    #[arg(long, short = 'g')]
    generate_name: bool,
    /// A Go template (with sprig) that gives the release name.
    #[arg(long)]
    name_template: Option<String>,
    #[command(flatten)]
    values: ValuesArgs,
    /// The Kubernetes version templates see in .Capabilities.KubeVersion.
    #[arg(long)]
    kube_version: Option<String>,
    /// Kubernetes API versions templates see in .Capabilities.APIVersions (repeatable).
    #[arg(long = "api-versions", short = 'a', value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Include the chart's CRDs in the output.
    #[arg(long)]
    include_crds: bool,
    /// Leave out tests (hooks of the `test` event).
    #[arg(long)]
    skip_tests: bool,
    /// Leave out hooks.
    #[arg(long)]
    no_hooks: bool,
    /// Only the manifests from these templates (paths or globs, repeatable).
    #[arg(long = "show-only", short = 's')]
    show_only: Vec<String>,
    /// Set .Release.IsUpgrade instead of .Release.IsInstall.
    #[arg(long)]
    is_upgrade: bool,
    /// Write each template to a file in this directory instead of printing it.
    #[arg(long)]
    output_dir: Option<String>,
}

/// Runs `weir template`; `namespace` is the `-n` given on the command line, if any.
pub fn run(args: TemplateArgs, namespace: Option<&str>) -> anyhow::Result<()> {
    let (name, chart_path) = name_and_chart(&args)?;
    validate_release_name(&name)?;
    let chart = load_chart(Path::new(&chart_path))?;
    let user_values = args.values.merge()?;
    let mut opts = Options::new(name, namespace.unwrap_or("default"));
    if let Some(v) = &args.kube_version {
        opts.kube_version =
            KubeVersion::parse(v).ok_or_else(|| anyhow!("invalid kube version '{v}': Invalid Semantic Version"))?;
    }
    opts.api_versions = args.api_versions.clone();
    opts.include_crds = args.include_crds;
    opts.is_upgrade = args.is_upgrade;
    let output = OutputOptions {
        include_crds: args.include_crds,
        no_hooks: args.no_hooks,
        skip_tests: args.skip_tests,
        show_only: args.show_only.clone(),
        output_dir: args.output_dir.clone(),
    };
    render_and_print(&chart, user_values, &opts, &output)
}

/// Renders and prints as `helm template` does; errors are worded as Helm's.
pub fn render_and_print(chart: &Chart, values: Map, opts: &Options, output: &OutputOptions) -> anyhow::Result<()> {
    if chart.metadata.is_library() {
        return Err(anyhow!("library charts are not installable"));
    }
    let rendered = render(chart, &Value::map(values), opts).map_err(helm_error)?;
    write_rendered(&rendered, output, &mut std::io::stdout().lock())
}

/// Helm adds a hint to errors raised once the release exists (while rendering templates).
fn helm_error(e: RenderError) -> anyhow::Error {
    match e {
        RenderError::Schema(message) => anyhow!(message),
        RenderError::Chart(message) if !message.starts_with("YAML parse error") => anyhow!(message),
        other => anyhow!("{other}\n\nUse --debug flag to render out invalid YAML"),
    }
}

/// Loads a chart from a directory or archive, with Helm's words for a missing path.
pub fn load_chart(path: &Path) -> anyhow::Result<Chart> {
    if !path.exists() {
        let shown = path.display().to_string();
        if path.is_absolute() || shown.starts_with('.') {
            return Err(anyhow!("path \"{shown}\" not found"));
        }
        return Err(anyhow!(
            "non-absolute URLs should be in form of repo_name/path_to_chart, got: {shown} \
             (weir template renders local charts only)"
        ));
    }
    weir_helm::chart::load(path).map_err(|e| anyhow!("{e}"))
}

/// Helm's `NameAndChart` as `helm template` calls it (with "release-name" preset).
fn name_and_chart(args: &TemplateArgs) -> anyhow::Result<(String, String)> {
    match args.args.as_slice() {
        [name, chart] => {
            if args.generate_name {
                return Err(anyhow!("cannot set --generate-name and also specify a name"));
            }
            if args.name_template.is_some() {
                return Err(anyhow!("cannot set --name-template and also specify a name"));
            }
            Ok((name.clone(), chart.clone()))
        }
        [chart] => match args.name_template.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Ok((template_name(t)?, chart.clone())),
            None => Ok((DEFAULT_RELEASE_NAME.to_string(), chart.clone())),
        },
        more => Err(anyhow!(
            "expected at most two arguments, unexpected arguments: {}",
            more.get(2..).unwrap_or_default().join(", ")
        )),
    }
}

/// Executes a `--name-template` with sprig's functions and no data.
fn template_name(text: &str) -> anyhow::Result<String> {
    let mut t = Template::new("name-template").funcs(weir_helm::sprig::sprig_funcs());
    t.parse(text).map_err(|e| anyhow!("{e}"))?;
    t.execute(&Value::Nil).map_err(|e| anyhow!("{e}"))
}

/// Helm's `ValidateReleaseName`: DNS-1123 labels joined by dots, at most 53 characters.
pub fn validate_release_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() {
        return Err(anyhow!("no name provided"));
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && b.first().is_some_and(alnum)
            && b.last().is_some_and(alnum)
            && b.iter().all(|c| alnum(c) || *c == b'-')
    };
    if name.len() > MAX_RELEASE_NAME_LEN || !name.split('.').all(label_ok) {
        return Err(anyhow!(
            "release name \"{name}\": invalid release name, must match regex \
             ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        ));
    }
    Ok(())
}
