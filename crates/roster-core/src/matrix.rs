//! The role × permission matrix of a pack, as CSV, Markdown or JSON.

use std::str::FromStr;

use serde::Serialize;

use crate::pack::Pack;

/// An output format for [`Matrix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixFormat {
    /// `permission,<roles…>` with `yes`/`no`/`if owner`/`if assigned` cells.
    Csv,
    /// A Markdown table.
    Markdown,
    /// `{pack, roles, rows:[{permission, cells}]}`.
    Json,
}

impl FromStr for MatrixFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "csv" => Ok(MatrixFormat::Csv),
            "markdown" | "md" => Ok(MatrixFormat::Markdown),
            "json" => Ok(MatrixFormat::Json),
            other => Err(format!("unknown matrix format `{other}` (use csv, markdown or json)")),
        }
    }
}

/// One permission's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    /// Permission id.
    pub permission: String,
    /// One cell per role, in the order of [`Matrix::roles`].
    pub cells: Vec<&'static str>,
}

/// A pack's role × permission matrix: roles by rank (highest first), permissions in pack order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// Pack id.
    pub pack: String,
    /// Role ids, highest rank first.
    pub roles: Vec<String>,
    /// One row per permission of the pack.
    pub rows: Vec<MatrixRow>,
}

impl Matrix {
    /// Builds the matrix of a pack.
    pub fn of(pack: &Pack) -> Matrix {
        let order = pack.roles_by_rank();
        let roles = order.iter().map(|&r| pack.roles()[usize::from(r)].id.clone()).collect();
        let rows = pack
            .permission_ids()
            .iter()
            .enumerate()
            .filter_map(|(i, id)| u16::try_from(i).ok().map(|i| (i, id)))
            .map(|(perm, id)| MatrixRow {
                permission: id.clone(),
                cells: order.iter().map(|&r| pack.roles()[usize::from(r)].holding(perm).as_str()).collect(),
            })
            .collect();
        Matrix { pack: pack.id().to_owned(), roles, rows }
    }

    /// The cell for one role and permission, if both exist.
    pub fn cell(&self, role: &str, permission: &str) -> Option<&'static str> {
        let column = self.roles.iter().position(|r| r == role)?;
        let row = self.rows.iter().find(|r| r.permission == permission)?;
        row.cells.get(column).copied()
    }

    /// Renders in a format.
    pub fn render(&self, format: MatrixFormat) -> String {
        match format {
            MatrixFormat::Csv => self.to_csv(),
            MatrixFormat::Markdown => self.to_markdown(),
            MatrixFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
        }
    }

    fn to_csv(&self) -> String {
        let mut out = format!("permission,{}\n", self.roles.join(","));
        for row in &self.rows {
            out.push_str(&row.permission);
            for cell in &row.cells {
                out.push(',');
                out.push_str(cell);
            }
            out.push('\n');
        }
        out
    }

    fn to_markdown(&self) -> String {
        let mut out =
            format!("| permission | {} |\n|---|{}\n", self.roles.join(" | "), "---|".repeat(self.roles.len()));
        for row in &self.rows {
            out.push_str(&format!("| `{}` | {} |\n", row.permission, row.cells.join(" | ")));
        }
        out
    }
}
