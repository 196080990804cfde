//! The cancel-link pages (README "Cancel links"): what a cancel link shows in a browser, and
//! how the tenant object tells the front door what a cancel did.

use worker::Response;

use super::{serve_filled, CSP_FORM};
use crate::error::ApiError;
use crate::model::Status;
use crate::providers::{final_word, Cancellation};

/// What a cancel link shows in a browser (docs/architecture.md, "The URL map"): the question with a button that
/// posts back to the link (a `GET` never cancels, so link previews cannot), the outcome of that
/// post, or, for a token that cannot be one, that the link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelLinkPage {
    /// `200`: "Cancel this assessment?" and the button.
    Confirm,
    /// `200`: the assessment is cancelled (by this press).
    Done,
    /// `200`: the assessment was already final (`COMPLETED`, `REJECTED`, `EXPIRED`, or
    /// `CANCELLED` by an earlier call of the link); nothing was cancelled.
    AlreadyFinal(Status),
    /// `200`: the link was opened on an assessment that is already final: it says so, with no
    /// button (there is nothing left to cancel).
    Final(Status),
    /// The link does not work, answered with the status the API gave (`401`).
    Invalid(u16),
}

/// The header on the tenant object's answer to a cancel link that tells the front door what
/// the cancel did (its value from [`cancel_outcome`]), so a browser gets the matching page.
pub const H_CANCEL_OUTCOME: &str = "x-bridge-cancel-outcome";

/// [`H_CANCEL_OUTCOME`]'s value: `cancelled` when the call cancelled the assessment, else
/// `already-<STATUS>` (e.g. `already-COMPLETED`).
pub fn cancel_outcome(c: &Cancellation) -> String {
    if c.cancelled {
        "cancelled".to_string()
    } else {
        format!("already-{}", c.status.as_str())
    }
}

impl CancelLinkPage {
    /// The page after the link's form was posted and the API answered `200`, from the
    /// [`H_CANCEL_OUTCOME`] value (missing or unknown: [`CancelLinkPage::Done`]).
    pub fn after_cancel(outcome: Option<&str>) -> Self {
        outcome
            .and_then(|o| o.strip_prefix("already-"))
            .and_then(|s| Status::ALL.into_iter().find(|x| x.as_str() == s))
            .map_or(Self::Done, Self::AlreadyFinal)
    }

    /// The page a link opens (`GET`), given the status of its assessment (None: the tenant
    /// object did not name one, e.g. an unknown token): the question while the assessment is
    /// open, else that it is already final. Opening never cancels.
    pub fn on_open(status: Option<Status>) -> Self {
        match status {
            Some(s) if s.is_final() => Self::Final(s),
            _ => Self::Confirm,
        }
    }

    /// The asset and status of the page.
    pub fn asset(self) -> (&'static str, u16) {
        match self {
            Self::Confirm => ("cancel-link/index.html", 200),
            Self::Done => ("cancel-link/done.html", 200),
            Self::AlreadyFinal(_) | Self::Final(_) => ("cancel-link/final.html", 200),
            Self::Invalid(status) => ("cancel-link/invalid.html", status),
        }
    }

    /// The text that fills the page's `{{title}}`, `{{heading}}` and `{{text}}` (only
    /// [`CancelLinkPage::AlreadyFinal`] and [`CancelLinkPage::Final`] have any).
    pub fn fill(self) -> Vec<(&'static str, String)> {
        let status = match self {
            Self::AlreadyFinal(status) => status,
            Self::Final(status) => return Self::fill_final(status),
            _ => return Vec::new(),
        };
        let (title, heading, text) = if status == Status::Cancelled {
            (
                "Assessment canceled".to_string(),
                "The assessment is canceled".to_string(),
                "It was already canceled before; nothing more was done. You can close this page."
                    .to_string(),
            )
        } else {
            let word = final_word(status);
            (
                "Nothing was canceled".to_string(),
                "Nothing was canceled".to_string(),
                format!(
                    "This assessment was already {word}, so nothing was canceled. Your \
                     applicant tracking system keeps it as {word}. You can close this page."
                ),
            )
        };
        vec![
            ("{{title}}", title),
            ("{{heading}}", heading),
            ("{{text}}", text),
        ]
    }
}

impl CancelLinkPage {
    /// [`CancelLinkPage::Final`]'s text: the assessment is already final, nothing to cancel.
    fn fill_final(status: Status) -> Vec<(&'static str, String)> {
        let (title, heading, text) = if status == Status::Cancelled {
            (
                "Assessment canceled".to_string(),
                "The assessment is already canceled".to_string(),
                "It was canceled before; there is nothing left to cancel. You can close this page."
                    .to_string(),
            )
        } else {
            let word = final_word(status);
            (
                format!("Assessment {word}"),
                format!("This assessment is already {word}"),
                format!(
                    "It can no longer be canceled, and nothing was changed. Your applicant \
                     tracking system keeps it as {word}. You can close this page."
                ),
            )
        };
        vec![
            ("{{title}}", title),
            ("{{heading}}", heading),
            ("{{text}}", text),
        ]
    }
}

/// Serve a cancel-link page (its form may post to this origin: [`CSP_FORM`]).
pub fn cancel_link_page(page: CancelLinkPage) -> Result<Response, ApiError> {
    let (path, status) = page.asset();
    serve_filled(path, status, CSP_FORM, &page.fill())
}

/// Whether a request is an HTML form's submission (a person pressing the cancel-link page's
/// button), whose answer is a page rather than JSON.
pub fn is_form_submission(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let ct = ct.trim_start().to_ascii_lowercase();
        ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("multipart/form-data")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::CSP;

    #[test]
    fn form_submissions() {
        assert!(is_form_submission(Some(
            "application/x-www-form-urlencoded"
        )));
        assert!(is_form_submission(Some(
            "Multipart/Form-Data; boundary=----x"
        )));
        assert!(!is_form_submission(Some("application/json")));
        assert!(!is_form_submission(None));
    }

    #[test]
    fn cancel_link_pages() {
        assert_eq!(
            CancelLinkPage::Confirm.asset(),
            ("cancel-link/index.html", 200)
        );
        assert_eq!(CancelLinkPage::Done.asset(), ("cancel-link/done.html", 200));
        assert_eq!(
            CancelLinkPage::Invalid(401).asset(),
            ("cancel-link/invalid.html", 401)
        );
        assert_eq!(
            CancelLinkPage::AlreadyFinal(Status::Completed).asset(),
            ("cancel-link/final.html", 200)
        );
        assert!(CancelLinkPage::Done.fill().is_empty());
        // The only difference from every other page's policy: the form may post here.
        assert_eq!(
            CSP_FORM.replace("form-action 'self'", "form-action 'none'"),
            CSP
        );
    }

    #[test]
    fn opening_a_link_on_a_final_assessment_says_so_without_asking() {
        assert_eq!(CancelLinkPage::on_open(None), CancelLinkPage::Confirm);
        assert_eq!(
            CancelLinkPage::on_open(Some(Status::NotSpecified)),
            CancelLinkPage::Confirm
        );
        assert_eq!(
            CancelLinkPage::on_open(Some(Status::Completed)),
            CancelLinkPage::Final(Status::Completed)
        );
        let page = CancelLinkPage::on_open(Some(Status::Completed));
        assert_eq!(page.asset(), ("cancel-link/final.html", 200));
        let fill = page.fill();
        assert!(
            fill[1].1.starts_with("This assessment is already "),
            "{fill:?}"
        );
        assert!(fill[2].1.contains("can no longer be canceled"), "{fill:?}");
        let cancelled = CancelLinkPage::Final(Status::Cancelled).fill();
        assert_eq!(cancelled[1].1, "The assessment is already canceled");
    }

    #[test]
    fn the_page_after_a_cancel_says_what_happened() {
        let c = |status, cancelled| Cancellation {
            assessment_id: "ats_ass_1",
            status,
            cancelled,
        };
        let now = cancel_outcome(&c(Status::Cancelled, true));
        assert_eq!(now, "cancelled");
        assert_eq!(
            CancelLinkPage::after_cancel(Some(&now)),
            CancelLinkPage::Done
        );
        for s in [
            Status::Completed,
            Status::Rejected,
            Status::Expired,
            Status::Cancelled,
        ] {
            let o = cancel_outcome(&c(s, false));
            assert_eq!(o, format!("already-{}", s.as_str()));
            assert_eq!(
                CancelLinkPage::after_cancel(Some(&o)),
                CancelLinkPage::AlreadyFinal(s)
            );
        }
        assert_eq!(CancelLinkPage::after_cancel(None), CancelLinkPage::Done);
        assert_eq!(
            CancelLinkPage::after_cancel(Some("already-NOPE")),
            CancelLinkPage::Done
        );
        let text = |p: CancelLinkPage| {
            p.fill()
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let completed = text(CancelLinkPage::AlreadyFinal(Status::Completed));
        assert!(completed.contains("Nothing was canceled"), "{completed}");
        assert!(completed.contains("already completed"), "{completed}");
        assert!(text(CancelLinkPage::AlreadyFinal(Status::Expired)).contains("already expired"));
        let again = text(CancelLinkPage::AlreadyFinal(Status::Cancelled));
        assert!(again.contains("The assessment is canceled"), "{again}");
        assert!(again.contains("already canceled"), "{again}");
        let keys: Vec<_> = CancelLinkPage::AlreadyFinal(Status::Rejected)
            .fill()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["{{title}}", "{{heading}}", "{{text}}"]);
    }
}
