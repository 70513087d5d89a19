//! Who may use the admin API: never open whatever the proxy's auth mode; the
//! admin password (or the API key when none is set) as a bearer token or
//! through the log-in cookie; changes made with the cookie need the CSRF
//! header; errors are JSON. The UI's files and the browser redirect of `/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::admin::{Admin, PASSWORD, message};
use support::{KEY, TestApp};

async fn status_of(admin: &Admin) -> u16 {
    admin.get("/api/status").await.0
}

#[tokio::test]
async fn no_wrong_and_right_bearer_passwords() {
    // Auth mode off: the proxy needs no key, the admin API still does.
    let app = TestApp::start(&format!(
        "auth_mode = \"off\"\napi_key = \"{KEY}\"\nadmin_password = \"{PASSWORD}\""
    ))
    .await;
    let none = Admin::new(&app.url, None);
    let (status, body) = none.get("/api/status").await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("Not logged in"), "{body}");

    let wrong = Admin::new(&app.url, Some("admin-pass-wrong"));
    let (status, body) = wrong.get("/api/status").await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("Wrong admin password"), "{body}");
    // The client key is not the admin password when one is configured.
    assert_eq!(status_of(&Admin::new(&app.url, Some(KEY))).await, 401);

    let right = Admin::new(&app.url, Some(PASSWORD));
    let (status, body) = right.get("/api/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["running"], true);
    assert_eq!(body["admin_password"], "admin_password");
    // A right bearer needs no CSRF header: a change goes through.
    assert_eq!(right.post("/api/proxy/stop", json!({})).await.0, 200);
    // Unknown admin paths: 401 without credentials, 404 with them.
    assert_eq!(none.get("/api/nope").await.0, 401);
    let (status, body) = right.get("/api/nope").await;
    assert_eq!(status, 404);
    assert!(message(&body).contains("/api/nope"));
    app.stop().await;
}

#[tokio::test]
async fn without_admin_password_the_api_key_is_the_password_and_the_proxy_key_is_not_needed() {
    let app = TestApp::start(&format!("auth_mode = \"strict\"\napi_key = \"{KEY}\"")).await;
    let admin = Admin::new(&app.url, Some(KEY));
    let (status, body) = admin.get("/api/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["admin_password"], "api_key");
    assert_eq!(body["auth_mode"], "strict");
    assert_eq!(
        status_of(&Admin::new(&app.url, Some("sk-not-the-key-000"))).await,
        401
    );
    // In strict mode the proxy key guards everything else, but not /api or /ui.
    let c = support::client();
    assert_eq!(
        c.get(app.url("/v1/models")).send().await.unwrap().status(),
        401
    );
    assert_eq!(c.get(app.url("/ui")).send().await.unwrap().status(), 200);
    let (status, _) = Admin::new(&app.url, None).get("/api/status").await;
    assert_eq!(
        status, 401,
        "the admin API answers for itself, in its own shape"
    );
    app.stop().await;
}

#[tokio::test]
async fn with_no_password_and_no_key_the_admin_api_is_closed() {
    let app = TestApp::start("auth_mode = \"off\"\napi_key = \"\"").await;
    let any = Admin::new(&app.url, Some("anything"));
    let (status, body) = any.get("/api/status").await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("closed"), "{body}");
    let (status, body) = Admin::new(&app.url, None)
        .post("/api/login", json!({"password": ""}))
        .await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("closed"), "{body}");
    app.stop().await;
}

fn cookie_of(res: &reqwest::Response) -> String {
    let set = res
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn log_in_with_a_cookie_and_log_out() {
    let app = TestApp::start(&format!("admin_password = \"{PASSWORD}\"")).await;
    let c = support::client();
    let login = |password: &str| {
        c.post(app.url("/api/login"))
            .json(&json!({ "password": password }))
            .send()
    };
    let res = login("wrong-password").await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let body: Value = res.json().await.unwrap();
    assert!(message(&body).contains("Wrong password"), "{body}");
    let res = c
        .post(app.url("/api/login"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(message(&body).contains("not valid"), "{body}");

    let res = login(PASSWORD).await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = cookie_of(&res);
    let with_cookie = |method: Method, path: &str| {
        c.request(method, app.url(path))
            .header("cookie", cookie.clone())
    };
    assert_eq!(
        with_cookie(Method::GET, "/api/status")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A change through the cookie needs the CSRF header.
    let res = with_cookie(Method::POST, "/api/proxy/stop")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert!(message(&body).contains("x-uplink-admin"), "{body}");
    let admin = Admin::new(&app.url, Some(PASSWORD));
    assert_eq!(
        admin.get("/api/status").await.1["running"],
        true,
        "nothing changed"
    );
    let res = with_cookie(Method::POST, "/api/proxy/stop")
        .header("x-uplink-admin", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(admin.get("/api/status").await.1["running"], false);

    // A forged cookie is refused; logging out ends the session.
    let forged = c
        .get(app.url("/api/status"))
        .header("cookie", "uplink_session=0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let res = with_cookie(Method::POST, "/api/logout")
        .header("x-uplink-admin", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "the cookie is cleared"
    );
    assert_eq!(
        with_cookie(Method::GET, "/api/status")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn the_ui_is_served_and_browsers_at_the_root_are_sent_there() {
    let app = TestApp::start(&format!("auth_mode = \"strict\"\napi_key = \"{KEY}\"")).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/ui", "/ui/"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        assert!(res.text().await.unwrap().contains("/ui/app.js"));
    }
    for (path, mime) in [
        ("/ui/app.js", "text/javascript"),
        ("/ui/pages/monitor.js", "text/javascript"),
        ("/ui/style.css", "text/css"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(mime),
            "{path}"
        );
    }
    let res = c.get(app.url("/ui/nope.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(message(&body).contains("nope.js"));

    // A browser's page load of / goes to the UI, even in strict mode…
    let res = c
        .get(app.url("/"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/ui");
    // …API clients probing / still need the key in strict mode and get JSON.
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), 401);
    let res = c.get(app.url("/")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["name"], "uplink");
    app.stop().await;
}

#[tokio::test]
async fn head_and_api_clients_at_the_root_keep_getting_200() {
    let app = TestApp::start("auth_mode = \"off\"").await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = c
        .head(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = c
        .get(app.url("/"))
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["ui"], "/ui");
    app.stop().await;
}

#[tokio::test]
async fn the_oauth_callback_needs_no_session_but_a_real_sign_in() {
    let app = TestApp::start(&format!("admin_password = \"{PASSWORD}\"")).await;
    let res = support::client()
        .get(app.url("/api/oauth/callback?state=forged&code=c"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "not 401: the browser comes back without credentials"
    );
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Sign-in failed") && page.contains("No such sign-in"),
        "{page}"
    );
    app.stop().await;
}
