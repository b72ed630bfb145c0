//! Typed, lazy access to the headers a B2BUA reads (pure): RFC 3261 §20. Nothing is parsed
//! until asked for; every accessor parses from the zero-copy header value and maps a syntax
//! error to the [`ParseError`] (and so the SIP status) the sender should get.

use crate::sip::error::{ParseError, SyntaxError};
use crate::sip::header::{
    Allow, CSeq, CallId, Contact, ContentType, Expires, HeaderName, MaxForwards, NameAddr,
    OptionTags, Via,
};
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::scan;
use crate::sip::uri::Uri;
use bytes::Bytes;

impl Message {
    /// The single value of `name`: `Ok(None)` when absent, an error when repeated or malformed.
    pub fn single<T>(
        &self,
        name: HeaderName,
        parse: impl Fn(&Bytes) -> Result<T, SyntaxError>,
    ) -> Result<Option<T>, ParseError> {
        let mut values = self.headers.get_all(name);
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ParseError::DuplicateHeader(name.as_str()));
        }
        parse(value).map(Some).map_err(|error| bad(name, error))
    }

    /// Every value of a list header `name`, across all its header lines, in order.
    pub fn list<T>(
        &self,
        name: HeaderName,
        parse: impl Fn(&Bytes) -> Result<Vec<T>, SyntaxError>,
    ) -> Result<Vec<T>, ParseError> {
        let mut out = Vec::new();
        for value in self.headers.get_all(name) {
            out.extend(parse(value).map_err(|error| bad(name, error))?);
        }
        Ok(out)
    }

    fn required<T>(
        &self,
        name: HeaderName,
        parse: impl Fn(&Bytes) -> Result<T, SyntaxError>,
    ) -> Result<T, ParseError> {
        self.single(name, parse)?
            .ok_or(ParseError::MissingHeader(name.as_str()))
    }

    /// The Request-URI (requests only; a response yields `BadStartLine`).
    pub fn request_uri(&self) -> Result<Uri, ParseError> {
        let line = self.request_line().ok_or(ParseError::BadStartLine)?;
        if line.uri.iter().any(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::BadRequestUri(SyntaxError::new(
                "request-uri whitespace",
                0,
            )));
        }
        Uri::parse(&line.uri).map_err(ParseError::BadRequestUri)
    }

    /// Call-ID (mandatory).
    pub fn call_id(&self) -> Result<CallId, ParseError> {
        self.required(HeaderName::CallId, CallId::parse)
    }

    /// CSeq (mandatory).
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        self.required(HeaderName::CSeq, CSeq::parse)
    }

    /// From (mandatory).
    pub fn from_header(&self) -> Result<NameAddr, ParseError> {
        self.required(HeaderName::From, NameAddr::parse)
    }

    /// To (mandatory).
    pub fn to_header(&self) -> Result<NameAddr, ParseError> {
        self.required(HeaderName::To, NameAddr::parse)
    }

    /// Every Via value, top first (mandatory: at least one).
    pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
        let vias = self.list(HeaderName::Via, Via::parse_list)?;
        if vias.is_empty() {
            return Err(ParseError::MissingHeader(HeaderName::Via.as_str()));
        }
        Ok(vias)
    }

    /// The top Via, parsing only the first Via header line.
    pub fn top_via(&self) -> Result<Via, ParseError> {
        let value = self
            .headers
            .get(HeaderName::Via)
            .ok_or(ParseError::MissingHeader(HeaderName::Via.as_str()))?;
        Via::parse_list(value)
            .map_err(|error| bad(HeaderName::Via, error))?
            .into_iter()
            .next()
            .ok_or(ParseError::MissingHeader(HeaderName::Via.as_str()))
    }

    /// Max-Forwards, if present.
    pub fn max_forwards(&self) -> Result<Option<MaxForwards>, ParseError> {
        self.single(HeaderName::MaxForwards, MaxForwards::parse)
    }

    /// Contact values (`*` included).
    pub fn contacts(&self) -> Result<Vec<Contact>, ParseError> {
        self.list(HeaderName::Contact, Contact::parse_list)
    }

    /// Route values in order.
    pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.list(HeaderName::Route, NameAddr::parse_list)
    }

    /// Record-Route values in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.list(HeaderName::RecordRoute, NameAddr::parse_list)
    }

    /// Expires, if present.
    pub fn expires(&self) -> Result<Option<Expires>, ParseError> {
        self.single(HeaderName::Expires, Expires::parse)
    }

    /// Content-Type, if present.
    pub fn content_type(&self) -> Result<Option<ContentType>, ParseError> {
        self.single(HeaderName::ContentType, ContentType::parse)
    }

    /// Option tags in Require.
    pub fn require(&self) -> Result<Vec<Bytes>, ParseError> {
        self.list(HeaderName::Require, |v| OptionTags::parse(v).map(|t| t.0))
    }

    /// Option tags in Proxy-Require.
    pub fn proxy_require(&self) -> Result<Vec<Bytes>, ParseError> {
        self.list(HeaderName::ProxyRequire, |v| {
            OptionTags::parse(v).map(|t| t.0)
        })
    }

    /// Option tags in Supported.
    pub fn supported(&self) -> Result<Vec<Bytes>, ParseError> {
        self.list(HeaderName::Supported, |v| OptionTags::parse(v).map(|t| t.0))
    }

    /// Option tags in Unsupported.
    pub fn unsupported(&self) -> Result<Vec<Bytes>, ParseError> {
        self.list(HeaderName::Unsupported, |v| {
            OptionTags::parse(v).map(|t| t.0)
        })
    }

    /// Methods in Allow.
    pub fn allow(&self) -> Result<Vec<Method>, ParseError> {
        self.list(HeaderName::Allow, |v| Allow::parse(v).map(|a| a.0))
    }

    /// User-Agent, opaque.
    pub fn user_agent(&self) -> Option<&Bytes> {
        self.headers.get(HeaderName::UserAgent)
    }

    /// Server, opaque.
    pub fn server(&self) -> Option<&Bytes> {
        self.headers.get(HeaderName::Server)
    }

    /// Content-Length as declared (the framer has already checked it against the body).
    pub fn content_length(&self) -> Option<usize> {
        let v = self.headers.get(HeaderName::ContentLength)?;
        scan::parse_u64(v).and_then(|n| usize::try_from(n).ok())
    }
}

fn bad(name: HeaderName, error: SyntaxError) -> ParseError {
    ParseError::BadHeader {
        name: name.as_str(),
        error,
    }
}
