mod chart;
mod documents;
mod documents_storage;
mod export;
mod fhir;
mod notes;
mod share;
mod storage;
