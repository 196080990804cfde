//! An operation's kind with its functions (`Handler`), the kinds as the docs name them, and
//! what a cancel did for the provider's answer (docs/adding-an-ats.md "Checklist").

use super::*;

/// The kind of an operation with its functions; the tenant object has one match over it.
/// (`Config` and `Activation` are the kinds partner-level ATSs use, docs/adding-an-ats.md; no
/// registered provider has them yet.)
/// Every answer is `200` JSON with the rendered value; errors are `ApiError`s in the
/// provider's `error_shape`.
#[allow(dead_code)]
pub enum Handler {
    /// Answer the tenant's packages (sources in docs/contract.md "Admin API").
    ListPackages {
        render: fn(&EdgeRequest, &[Package]) -> ApiResult<Value>,
    },
    /// Place an order: store it and emit `record.new`, idempotent on the key.
    Order {
        parse: fn(&EdgeRequest) -> ApiResult<Order>,
        render: fn(&str) -> Value,
    },
    /// Report an assessment's status; `parse` gives its id, `not_found` names it in the 404.
    Status {
        parse: fn(&EdgeRequest) -> ApiResult<String>,
        not_found: &'static str,
        render: fn(&StatusView) -> Value,
    },
    /// Cancel an assessment (`record.deleted`). An assessment that was already final is left
    /// as it is (no event, no write-back): `render` gets its real status
    /// ([`Cancellation`]) and answers what happened, or refuses in the provider's error shape
    /// (e.g. Ashby's 422 `{"message"}` for an assessment that was already completed).
    Cancel {
        parse: fn(&EdgeRequest) -> ApiResult<String>,
        not_found: &'static str,
        render: fn(&Cancellation) -> ApiResult<Value>,
    },
    /// Cancel the one assessment a cancel link is bound to (README "Cancel links"): the
    /// request is authorized by the link's `token` query parameter, not by a provider key, and
    /// the bridge hands the link to the ATS itself (`PlacedOrder::cancel_url`). An assessment
    /// that was already final (a repeat included) is left as it is, without a second
    /// `record.deleted` or write-back; `render` gets its real status ([`Cancellation`]), and
    /// the link's page in a browser says it too (`web::CancelLinkPage`).
    CancelLink { render: fn(&Cancellation) -> Value },
    /// The ATS reports an error about a call of ours (`provider.error` event).
    ReportError {
        parse: fn(&EdgeRequest) -> ApiResult<ReportedError>,
        render: fn() -> Value,
    },
    /// A configuration form or document built from the tenant's packages.
    Config {
        /// What the vendor's `packages_url` is told about this request besides the tenant and
        /// the provider (e.g. Teamtailor's `job_id`, `stage_id`): merged into the body it is
        /// POSTed, and part of the 5-minute cache key. Empty: the plain question.
        context: fn(&EdgeRequest) -> Vec<(&'static str, String)>,
        render: fn(&EdgeRequest, &[Package]) -> ApiResult<Value>,
    },
    /// An activation form or check that needs no tenant data. `public`: answered by the front
    /// door without any credential or tenant (an ATS fetches it before the customer has a key;
    /// the request's `tenant` is empty); otherwise the key is checked like any edge call.
    Activation {
        render: fn(&EdgeRequest) -> ApiResult<Value>,
        public: bool,
    },
}

/// Operation kinds (docs/adding-an-ats.md "Checklist"), as `GET /v1/providers` and the docs name
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    ListPackages,
    Order,
    Status,
    Cancel,
    ReportError,
    Config,
    Activation,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::ListPackages => "list_packages",
            OperationKind::Order => "order",
            OperationKind::Status => "status",
            OperationKind::Cancel => "cancel",
            OperationKind::ReportError => "report_error",
            OperationKind::Config => "config",
            OperationKind::Activation => "activation",
        }
    }
}

impl Handler {
    pub fn kind(&self) -> OperationKind {
        match self {
            Handler::ListPackages { .. } => OperationKind::ListPackages,
            Handler::Order { .. } => OperationKind::Order,
            Handler::Status { .. } => OperationKind::Status,
            Handler::Cancel { .. } | Handler::CancelLink { .. } => OperationKind::Cancel,
            Handler::ReportError { .. } => OperationKind::ReportError,
            Handler::Config { .. } => OperationKind::Config,
            Handler::Activation { .. } => OperationKind::Activation,
        }
    }

    /// Run only the request parser (no storage): what the fuzzers and fixture checks call.
    /// None when the kind parses nothing.
    #[cfg(test)]
    pub fn parse_only(&self, req: &EdgeRequest) -> Option<ApiResult<()>> {
        match self {
            Handler::Order { parse, .. } => Some(parse(req).map(|_| ())),
            Handler::Status { parse, .. } | Handler::Cancel { parse, .. } => {
                Some(parse(req).map(|_| ()))
            }
            Handler::ReportError { parse, .. } => Some(parse(req).map(|_| ())),
            Handler::ListPackages { .. }
            | Handler::Config { .. }
            | Handler::Activation { .. }
            | Handler::CancelLink { .. } => None,
        }
    }
}

impl Handler {
    /// Whether the handler reads nothing of the request (no body, no query): such an
    /// operation needs no fixture.
    #[cfg(test)]
    pub fn parse_only_reads_nothing(&self) -> bool {
        matches!(
            self,
            Handler::ListPackages { .. }
                | Handler::Config { .. }
                | Handler::Activation { .. }
                | Handler::CancelLink { .. }
        )
    }
}

/// What a cancel did (`Handler::Cancel`, `Handler::CancelLink`), for the provider's answer
/// (README "Edge endpoints", "Cancel links").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancellation<'a> {
    /// The bridge's assessment id (`ats_ass_…`).
    pub assessment_id: &'a str,
    /// The assessment's status after the call: `CANCELLED` when this call cancelled it,
    /// otherwise the final status it already had (`COMPLETED`, `REJECTED`, `EXPIRED`, or
    /// `CANCELLED` for a repeat).
    pub status: Status,
    /// True when this call cancelled it; false when it was already final and nothing changed.
    pub cancelled: bool,
}

impl Cancellation<'_> {
    /// The sentence for an assessment that was already final (None when this call cancelled
    /// it), e.g. "The assessment was already completed; nothing was canceled."
    pub fn already_final(&self) -> Option<String> {
        if self.cancelled {
            return None;
        }
        Some(format!(
            "The assessment was already {}; nothing was canceled.",
            final_word(self.status)
        ))
    }
}

/// A final status as a past participle for people ("completed", "rejected", "expired",
/// "canceled"; anything else "final").
pub fn final_word(status: Status) -> &'static str {
    match status {
        Status::Completed => "completed",
        Status::Rejected => "rejected",
        Status::Expired => "expired",
        Status::Cancelled => "canceled",
        _ => "final",
    }
}
