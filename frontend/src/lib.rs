//! The browser half of Bedside: hydrates the server-rendered portal pages.
//! Public pages do not load this bundle (see docs/ARCHITECTURE.md).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Marks the page as live (its forms now run in place): browser tests wait for it.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
