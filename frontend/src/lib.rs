//! The browser half of Bedside: hydrates the server-rendered portal pages.
//! Public pages do not load this bundle (see docs/ARCHITECTURE.md).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
