//! Processing pipelines: pySigma-style YAML that rewrites rules before they are compiled (field name
//! mappings, added conditions, log source changes), so that rules written for Sysmon field names run on
//! events that use other names. Event-side renames live in
//! [`NormaliseOptions::field_map`](crate::events::NormaliseOptions::field_map).
//!
//! ```
//! use secops_detect::pipeline::Pipeline;
//!
//! let pipeline = Pipeline::from_yaml(r#"
//! name: my_fields
//! priority: 10
//! transformations:
//!   - id: cmd
//!     type: field_name_mapping
//!     mapping:
//!       CommandLine: proc.cmdline
//! "#).unwrap();
//! assert_eq!(pipeline.name(), "my_fields");
//! assert!(Pipeline::builtin("ecs_windows").unwrap().is_some());
//! assert!(Pipeline::builtin_names().contains(&"sysmon"));
//! ```

use std::path::Path;

use crate::error::DetectError;

/// A processing pipeline (rsigma's implementation of pySigma's format).
#[derive(Debug, Clone)]
pub struct Pipeline(rsigma_eval::Pipeline);

impl Pipeline {
    /// Parse a pipeline from YAML.
    pub fn from_yaml(yaml: &str) -> Result<Pipeline, DetectError> {
        rsigma_eval::parse_pipeline(yaml)
            .map(Pipeline)
            .map_err(|e| DetectError::Pipeline {
                name: "(inline)".to_owned(),
                message: e.to_string(),
            })
    }

    /// Read a pipeline file.
    pub fn from_file(path: &Path) -> Result<Pipeline, DetectError> {
        let text = std::fs::read_to_string(path).map_err(|e| DetectError::io(path, e))?;
        Self::from_yaml(&text).map_err(|e| match e {
            DetectError::Pipeline { message, .. } => DetectError::Pipeline {
                name: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// A pipeline shipped with rsigma: `sysmon`, `ecs_windows`, `fibratus_windows`; `Ok(None)` for other names.
    pub fn builtin(name: &str) -> Result<Option<Pipeline>, DetectError> {
        match rsigma_eval::resolve_builtin_pipeline(name) {
            None => Ok(None),
            Some(Ok(p)) => Ok(Some(Pipeline(p))),
            Some(Err(e)) => Err(DetectError::Pipeline {
                name: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// A built-in pipeline by name, else a pipeline file at that path.
    pub fn builtin_or_file(name_or_path: &str) -> Result<Pipeline, DetectError> {
        match Self::builtin(name_or_path)? {
            Some(p) => Ok(p),
            None => Self::from_file(Path::new(name_or_path)),
        }
    }

    /// Names of the built-in pipelines.
    pub fn builtin_names() -> &'static [&'static str] {
        rsigma_eval::builtin_pipeline_names()
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Its priority: lower runs first.
    pub fn priority(&self) -> i32 {
        self.0.priority
    }

    pub(crate) fn inner(&self) -> &rsigma_eval::Pipeline {
        &self.0
    }
}
