//! A small HTTP client for the API: every call answers `(status, envelope)` and the
//! helpers assert the envelope's shape.

use serde_json::Value;

/// The API of one gateway.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub ticket: Option<String>,
    client: reqwest::Client,
}

/// One answer: the HTTP status and the parsed body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// Asserts a success envelope and returns `data`.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.body);
        assert_eq!(self.body["ret_code"], 200, "{}", self.body);
        assert_eq!(self.body["err_msg"], "", "{}", self.body);
        &self.body["data"]
    }

    /// Asserts an error envelope with `status` (== ret_code) whose message contains
    /// `needle`; returns the message.
    #[track_caller]
    pub fn err(&self, status: u16, needle: &str) -> String {
        assert_eq!(self.status, status, "unexpected status; body {}", self.body);
        assert_eq!(
            self.body["ret_code"], status,
            "ret_code must equal the HTTP status: {}",
            self.body
        );
        let message = self.body["err_msg"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.contains(needle),
            "err_msg {message:?} should mention {needle:?}"
        );
        assert!(
            self.body.get("data").is_some(),
            "error envelopes carry data: {}",
            self.body
        );
        message
    }
}

impl Api {
    pub fn new(addr: &str, ticket: Option<String>) -> Api {
        Api {
            base: format!("http://{addr}"),
            ticket,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    /// The same gateway with another ticket (or none).
    pub fn with_ticket(&self, ticket: Option<&str>) -> Api {
        Api {
            ticket: ticket.map(str::to_string),
            ..self.clone()
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(t) = &self.ticket {
            pairs.push(("ticket".into(), t.clone()));
        }
        let qs = serde_urlencoded_pairs(&pairs);
        if qs.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{qs}", self.base)
        }
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text:?}"));
        Answer { status, body }
    }

    /// GET `path` with query parameters.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        Api::answer(
            self.client
                .get(self.url(path, query))
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    /// POST a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        Api::answer(
            self.client
                .post(self.url(path, &[]))
                .json(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    /// POST a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        Api::answer(
            self.client
                .post(self.url(path, &[]))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    /// A request built by the caller (headers, methods), answered as an envelope.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Api::answer(request.send().await.expect("send")).await
    }

    /// The underlying client, for custom requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `host:port` of the gateway.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// The ticket this API sends.
    pub fn ticket(&self) -> Option<&str> {
        self.ticket.as_deref()
    }

    /// URL of `path` with this API's ticket.
    pub fn url_for(&self, path: &str, query: &[(&str, &str)]) -> String {
        self.url(path, query)
    }
}

fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
