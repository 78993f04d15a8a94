//! Classifying API errors by their HTTP code.

/// Whether `e` is an API error with HTTP status `code`.
pub fn has_code<T>(r: &kube::Result<T>, code: u16) -> bool {
    matches!(r, Err(kube::Error::Api(s)) if s.code == code)
}

/// `Ok`, or the error unless it is a 404 (deleting what is gone is success).
pub fn ignore_not_found<T>(r: kube::Result<T>) -> kube::Result<()> {
    match r {
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}
