//! What players type, made safe to show: names and chat lines lose their invisible format characters
//! (bidi overrides, zero-width characters, tags), and control characters never reach another terminal.

use super::{MAX_CHAT_CHARS, MAX_NAME_CHARS};

/// Every code point of Unicode general category Cf ("Format"), as sorted, disjoint, inclusive ranges: 170
/// code points in 21 ranges.
///
/// Source: the Unicode Character Database, `extracted/DerivedGeneralCategory.txt`, section
/// `General_Category=Format`, of Unicode 15.1.0 and 16.0.0 (the two are identical for Cf; 15.0 added
/// U+13439..U+1343F). The standard library has no general-category API, hence this table.
pub const FORMAT_CHARACTERS: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),   // SOFT HYPHEN
    ('\u{0600}', '\u{0605}'),   // ARABIC NUMBER SIGN..ARABIC NUMBER MARK ABOVE
    ('\u{061C}', '\u{061C}'),   // ARABIC LETTER MARK
    ('\u{06DD}', '\u{06DD}'),   // ARABIC END OF AYAH
    ('\u{070F}', '\u{070F}'),   // SYRIAC ABBREVIATION MARK
    ('\u{0890}', '\u{0891}'),   // ARABIC POUND MARK ABOVE..ARABIC PIASTRE MARK ABOVE
    ('\u{08E2}', '\u{08E2}'),   // ARABIC DISPUTED END OF AYAH
    ('\u{180E}', '\u{180E}'),   // MONGOLIAN VOWEL SEPARATOR
    ('\u{200B}', '\u{200F}'),   // ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    ('\u{202A}', '\u{202E}'),   // LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    ('\u{2060}', '\u{2064}'),   // WORD JOINER..INVISIBLE PLUS
    ('\u{2066}', '\u{206F}'),   // LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    ('\u{FEFF}', '\u{FEFF}'),   // ZERO WIDTH NO-BREAK SPACE (byte order mark)
    ('\u{FFF9}', '\u{FFFB}'),   // INTERLINEAR ANNOTATION ANCHOR..TERMINATOR
    ('\u{110BD}', '\u{110BD}'), // KAITHI NUMBER SIGN
    ('\u{110CD}', '\u{110CD}'), // KAITHI NUMBER SIGN ABOVE
    ('\u{13430}', '\u{1343F}'), // EGYPTIAN HIEROGLYPH VERTICAL JOINER..END WALLED ENCLOSURE
    ('\u{1BCA0}', '\u{1BCA3}'), // SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    ('\u{1D173}', '\u{1D17A}'), // MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    ('\u{E0001}', '\u{E0001}'), // LANGUAGE TAG
    ('\u{E0020}', '\u{E007F}'), // TAG SPACE..CANCEL TAG
];

/// Whether `c` is a format character (general category Cf, see [`FORMAT_CHARACTERS`]).
pub fn is_format(c: char) -> bool {
    FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Why a name or chat line was refused, see [`clean_name`] and [`clean_chat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("empty")]
    Empty,
    #[error("too long")]
    TooLong,
    #[error("has control characters")]
    ControlCharacters,
}

/// A player name as the server accepts it: format characters dropped, trimmed, 1 to [`MAX_NAME_CHARS`]
/// characters, none of them control characters.
pub fn clean_name(name: &str) -> Result<String, TextError> {
    let visible: String = name.chars().filter(|c| !is_format(*c)).collect();
    let name = visible.trim();
    if name.is_empty() {
        return Err(TextError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(TextError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(TextError::ControlCharacters);
    }
    Ok(name.to_owned())
}

/// A chat line as the server relays it: control and format characters removed, trimmed, 1 to
/// [`MAX_CHAT_CHARS`] characters.
pub fn clean_chat(text: &str) -> Result<String, TextError> {
    let cleaned: String = text.chars().filter(|c| !c.is_control() && !is_format(*c)).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return Err(TextError::Empty);
    }
    if cleaned.chars().count() > MAX_CHAT_CHARS {
        return Err(TextError::TooLong);
    }
    Ok(cleaned.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each kind the table must cover, by name.
    const KINDS: [(&str, char); 13] = [
        ("LEFT-TO-RIGHT EMBEDDING", '\u{202A}'),
        ("RIGHT-TO-LEFT OVERRIDE", '\u{202E}'),
        ("LEFT-TO-RIGHT ISOLATE", '\u{2066}'),
        ("POP DIRECTIONAL ISOLATE", '\u{2069}'),
        ("ZERO WIDTH SPACE", '\u{200B}'),
        ("ZERO WIDTH JOINER", '\u{200D}'),
        ("RIGHT-TO-LEFT MARK", '\u{200F}'),
        ("ZERO WIDTH NO-BREAK SPACE", '\u{FEFF}'),
        ("SOFT HYPHEN", '\u{00AD}'),
        ("ARABIC LETTER MARK", '\u{061C}'),
        ("MONGOLIAN VOWEL SEPARATOR", '\u{180E}'),
        ("LANGUAGE TAG", '\u{E0001}'),
        ("TAG LATIN SMALL LETTER A", '\u{E0061}'),
    ];

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name("  ada "), Ok("ada".into()));
        assert_eq!(clean_name("   "), Err(TextError::Empty));
        assert_eq!(clean_name(&"x".repeat(MAX_NAME_CHARS + 1)), Err(TextError::TooLong));
        assert_eq!(clean_name("a\u{1b}[2J"), Err(TextError::ControlCharacters));
    }

    #[test]
    fn chat_loses_control_characters() {
        assert_eq!(clean_chat("hi\u{7}\u{1b} there\n"), Ok("hi there".into()));
        assert_eq!(clean_chat("\n\t"), Err(TextError::Empty));
        assert_eq!(clean_chat(&"é".repeat(MAX_CHAT_CHARS + 1)), Err(TextError::TooLong));
    }

    #[test]
    fn names_and_chat_lose_every_kind_of_format_character() {
        for (kind, c) in KINDS {
            assert_eq!(clean_name(&format!("a{c}da")), Ok("ada".into()), "{kind} in a name");
            assert_eq!(
                clean_name(&format!("{c} ada")),
                Ok("ada".into()),
                "{kind} before a name"
            );
            assert_eq!(
                clean_name(&c.to_string()),
                Err(TextError::Empty),
                "{kind} alone as a name"
            );
            assert_eq!(clean_chat(&format!("g{c}g {c}")), Ok("gg".into()), "{kind} in chat");
        }
        // "evil\u{202E}gpj.exe" would show as "evilexe.jpg".
        assert_eq!(clean_chat("evil\u{202E}gpj.exe"), Ok("evilgpj.exe".into()));
        // Invisible characters do not count towards the length.
        let padded = format!("{}{}", "x".repeat(MAX_NAME_CHARS), "\u{200B}".repeat(8));
        assert_eq!(clean_name(&padded), Ok("x".repeat(MAX_NAME_CHARS)));
    }

    #[test]
    fn the_table_holds_exactly_the_170_format_characters() {
        assert!(
            FORMAT_CHARACTERS.windows(2).all(|w| w[0].1 < w[1].0) && FORMAT_CHARACTERS.iter().all(|(a, b)| a <= b),
            "sorted and disjoint, or the binary search misses"
        );
        let all: Vec<char> = (char::MIN..=char::MAX).filter(|c| is_format(*c)).collect();
        assert_eq!(all.len(), 170);
        for (first, last) in FORMAT_CHARACTERS {
            assert!((first..=last).all(is_format), "{first:?}..={last:?}");
        }
        // Neighbours that are not format characters stay: letters, spaces, a hair space, emoji, CJK.
        for c in [
            'a',
            ' ',
            '\u{200A}',
            '\u{2010}',
            '\u{2065}',
            '\u{FEFE}',
            '😀',
            '界',
            '\u{E0000}',
            '\u{E0080}',
        ] {
            assert!(!is_format(c), "{c:?}");
        }
        assert_eq!(clean_chat("😀 界 é"), Ok("😀 界 é".into()));
    }
}
