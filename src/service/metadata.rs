//! What the reference service serves at `{BASE}/$metadata`: the CSDL document of its pages,
//! so that a run against it holds the `metadata` phase too. Pages that share one metadata
//! document (`--metadata`, the embedded page's compiled-in one) get the part of it their types
//! need (the types, their bases, the complex and enum types they use, the types their
//! navigation properties lead to; `derive::metadata::write`);
//! otherwise a document written from their contracts (`contract::csdl`).

use crate::page::Api;

/// The document served for `apis`.
pub fn document(apis: &[&Api]) -> String {
    let sources: Vec<_> = apis.iter().map(|a| a.metadata).collect();
    if let Some(Some(first)) = sources.first() {
        if sources.iter().all(|m| m.is_some_and(|m| std::ptr::eq(m.source, first.source))) {
            let meta = &first.source.meta;
            let mut types: Vec<_> =
                sources.iter().flatten().filter_map(|m| meta.find_structured(m.qualified, None).ok()).collect();
            // The types the pages' navigation properties lead to, so that those properties are
            // written (a navigation property whose target is not in the document is left out).
            let targets: Vec<_> = types
                .iter()
                .filter_map(|t| meta.navigation(t).ok())
                .flatten()
                .filter_map(|n| meta.find_structured(&n.property.ty.name, None).ok())
                .collect();
            for t in targets {
                if !types.iter().any(|x| std::ptr::eq(*x, t)) {
                    types.push(t);
                }
            }
            if let Ok(closure) = meta.closure_all(&types) {
                return crate::derive::metadata::write(meta, &closure);
            }
        }
    }
    let contracts: Vec<_> = apis.iter().map(|a| a.contract).collect();
    crate::contract::csdl::document(&contracts)
}
