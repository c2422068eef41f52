//! Glob patterns as Helm uses them: `.helmignore` rules (Go's `filepath.Match`: `*`, `?`
//! and `[…]` never cross `/`) and `.Files.Glob` (gobwas/glob with `/` as separator, where
//! `**` does cross it).

/// Whether `name` matches `pattern`. `**` matches across `/` only when `double_star` is set.
pub fn matches(pattern: &str, name: &str, double_star: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n, double_star)
}

fn go(p: &[char], n: &[char], ds: bool) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => {
            let (cross, rest) = if ds && p.get(1) == Some(&'*') { (true, &p[2..]) } else { (false, &p[1..]) };
            for i in 0..=n.len() {
                if go(rest, &n[i..], ds) {
                    return true;
                }
                if i < n.len() && n[i] == '/' && !cross {
                    return false;
                }
            }
            false
        }
        Some('?') => !n.is_empty() && n[0] != '/' && go(&p[1..], &n[1..], ds),
        Some('[') => {
            let Some(c) = n.first() else { return false };
            let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|e| e + 1) else {
                return false;
            };
            let mut class = &p[1..end];
            let negate = matches!(class.first(), Some('^') | Some('!'));
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= *c && *c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == *c;
                    i += 1;
                }
            }
            hit != negate && *c != '/' && go(&p[end + 1..], &n[1..], ds)
        }
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && go(&p[2..], &n[1..], ds),
        Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..], ds),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("*.txt", "a.txt", false));
        assert!(!matches("*.txt", "d/a.txt", false));
        assert!(matches("files/**", "files/a/b.txt", true));
        assert!(matches("files/*.[ch]", "files/x.c", false));
        assert!(!matches("a?c", "a/c", false));
    }
}
