//! Words and numbers as a person reads them: thousands separators, counted nouns, long text
//! cut in the middle. Shared by every stage that writes text; no I/O.

/// `1037` as `1,037`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn elided(n: usize) -> String {
    format!("…({} chars)…", thousands(n))
}

/// A line of text cut in the middle when longer than `max` characters.
pub fn elide_text(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(20);
    let head: String = chars[..keep * 3 / 4].iter().collect();
    let tail: String = chars[chars.len() - keep / 4..].iter().collect();
    format!("{head}{}{tail}", elided(chars.len() - head.chars().count() - tail.chars().count()))
}

/// `1 check`, `2 checks`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1037), "1,037");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn long_text_is_cut_in_the_middle_and_counted() {
        let t = elide_text(&"y".repeat(500), 200);
        assert!(t.chars().count() < 200 && t.contains("chars)…"), "{t}");
        assert_eq!(elide_text("short", 200), "short");
    }

    #[test]
    fn counted_nouns() {
        assert_eq!(count(1, "check"), "1 check");
        assert_eq!(count(0, "check"), "0 checks");
        assert_eq!(count(2, "case file"), "2 case files");
    }
}
