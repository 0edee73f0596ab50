//! Kratos's keyset paging, written once for every listing: the token of a page is the id of the
//! previous page's last item, and one item more than the page holds is fetched to tell whether
//! another page follows.

use std::str::FromStr;

/// The id a `page_token` names, or the token back when it is none this service returned.
pub(crate) fn cursor<Id: FromStr>(token: Option<String>) -> Result<Option<Id>, String> {
    token
        .map(|token| token.parse::<Id>().map_err(|_| token))
        .transpose()
}

/// Cuts `fetched` (up to `page_size + 1` items) to the page, and returns the token of the next
/// page when the extra item shows there is one.
pub(crate) fn next_page<T, Id: ToString>(
    fetched: &mut Vec<T>,
    page_size: usize,
    id_of: impl Fn(&T) -> Id,
) -> Option<String> {
    if fetched.len() <= page_size {
        return None;
    }
    fetched.truncate(page_size);
    fetched.last().map(|last| id_of(last).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_another_follows() {
        let mut fetched = vec![1, 2, 3];
        assert_eq!(next_page(&mut fetched, 2, |n| *n), Some("2".into()));
        assert_eq!(fetched, [1, 2]);
        let mut fetched = vec![1, 2];
        assert_eq!(next_page(&mut fetched, 2, |n| *n), None);
        assert_eq!(cursor::<u32>(Some("7".into())), Ok(Some(7)));
        assert_eq!(cursor::<u32>(Some("x".into())), Err("x".into()));
        assert_eq!(cursor::<u32>(None), Ok(None));
    }
}
