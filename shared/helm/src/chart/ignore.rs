//! `.helmignore`: gitignore-like rules applied while loading a chart directory.

use super::glob::matches;

/// The rules of one `.helmignore`, plus Helm's default (`templates/.?*`).
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dir_only: bool,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let mut rules = vec![Rule { pattern: "templates/.?*".into(), negate: false, dir_only: false }];
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line == "!" {
                continue;
            }
            let (negate, rest) = match line.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, line),
            };
            let (dir_only, rest) = match rest.strip_suffix('/') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let pattern = rest.trim_start_matches('/').to_string();
            rules.push(Rule { pattern, negate, dir_only });
        }
        Ignore { rules }
    }

    /// Whether the path (relative to the chart, `/`-separated) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path == "." || path.is_empty() {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for rule in &self.rules {
            if rule.dir_only && !is_dir {
                continue;
            }
            let hit = if rule.pattern.contains('/') {
                matches(&rule.pattern, path, false)
            } else {
                matches(&rule.pattern, base, false)
            };
            if hit {
                ignored = !rule.negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::Ignore;

    #[test]
    fn rules() {
        let i = Ignore::parse("# c\n*.bak\n.git/\n!keep.bak\nsecret/x.txt\n");
        assert!(i.ignored("a.bak", false));
        assert!(i.ignored("d/a.bak", false));
        assert!(!i.ignored("keep.bak", false));
        assert!(i.ignored(".git", true));
        assert!(i.ignored("secret/x.txt", false));
        assert!(i.ignored("templates/.hidden", false));
        assert!(!i.ignored("templates/a.yaml", false));
    }
}
