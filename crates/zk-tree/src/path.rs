//! Path rules of ZooKeeper's `PathUtils.validatePath` and the parent/name split used by the
//! prep and apply stages.

/// The special nodes `isSpecialPath` refuses to delete.
pub const SPECIAL_PATHS: [&str; 4] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/// Whether a character is one `validatePath` refuses. Java checks UTF-16 code units, so a
/// character beyond U+FFFF (a surrogate pair in Java, inside U+D800-U+F8FF) is refused too.
fn is_forbidden_char(c: char) -> bool {
    let c = u32::from(c);
    c == 0
        || (0x0001..=0x001F).contains(&c)
        || (0x007F..=0x009F).contains(&c)
        || (0xD800..=0xF8FF).contains(&c)
        || (0xFFF0..).contains(&c)
}

/// `PathUtils.validatePath`: non-empty, absolute, no trailing `/` (except the root), no empty,
/// `.` or `..` component, and no forbidden character.
pub fn validate_path(path: &str) -> bool {
    if path.is_empty() || !path.starts_with('/') {
        return false;
    }
    if path == "/" {
        return true;
    }
    if path.ends_with('/') {
        return false;
    }
    if path.chars().any(is_forbidden_char) {
        return false;
    }
    path[1..]
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Splits a path at its last `/` into (parent, child name) as ZooKeeper does with
/// `lastIndexOf('/')`, mapping the empty parent of a top-level node to `/`. `None` when the path
/// has no `/`.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let cut = path.rfind('/')?;
    let parent = if cut == 0 { "/" } else { &path[..cut] };
    Some((parent, &path[cut + 1..]))
}

/// The parent of a path (`/` for a top-level node and for `/` itself).
pub fn parent_of(path: &str) -> &str {
    split_path(path).map_or("/", |(parent, _)| parent)
}

/// Whether `path` is one of the nodes ZooKeeper itself owns and never deletes.
pub fn is_special_path(path: &str) -> bool {
    SPECIAL_PATHS.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_path_accepts_and_refuses_like_path_utils() {
        let cases: &[(&str, bool)] = &[
            ("/", true),
            ("/a", true),
            ("/a/b-c_d.e", true),
            ("/a/..b", true),
            ("/zookeeper", true),
            ("", false),
            ("a", false),
            ("/a/", false),
            ("//a", false),
            ("/a//b", false),
            ("/a/.", false),
            ("/a/..", false),
            ("/./a", false),
            ("/a\u{0}b", false),
            ("/a\u{1}b", false),
            ("/a\u{7f}b", false),
            ("/a\u{9f}b", false),
            ("/a\u{e000}b", false),
            ("/a\u{fff0}b", false),
            ("/a\u{a0}b", true),
            ("/caf\u{e9}", true),
            ("/\u{1f600}", false),
            ("/a\u{f900}b", true),
        ];
        for &(path, ok) in cases {
            assert_eq!(validate_path(path), ok, "{path:?}");
        }
    }

    #[test]
    fn split_path_maps_top_level_parents_to_root() {
        assert_eq!(split_path("/a"), Some(("/", "a")));
        assert_eq!(split_path("/a/b"), Some(("/a", "b")));
        assert_eq!(split_path("/"), Some(("/", "")));
        assert_eq!(split_path("a"), None);
        assert_eq!(parent_of("/a/b/c"), "/a/b");
    }
}
