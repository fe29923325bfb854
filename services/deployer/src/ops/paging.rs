//! The platform's paging rules for the deployer's lists (the task-runner applies the same
//! to `task_list`):
//!
//! - Histories, which grow for as long as the installation lives (notifications,
//!   configuration history, packages), answer [`DEFAULT_PAGE_SIZE`] rows when no page is
//!   asked for, with their total `count`.
//! - Fleet lists (servers under a tree node, inactive servers) answer every row when no
//!   page is asked for, up to [`MAX_PAGE_SIZE`]; past that the caller is told to page
//!   rather than handed a silently truncated list.
//! - `page_size` is at most [`MAX_PAGE_SIZE`] everywhere; larger, or negative numbers,
//!   are a 400.

use tars_proto::common::Page;
use tars_store::{PageWindow, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

use crate::error::{DeployerError, DeployerResult};

fn requested(page: Option<&Page>) -> (i64, i64) {
    page.map_or((0, 0), |p| (p.curr_page, p.page_size))
}

fn window(curr_page: i64, page_size: i64, default_size: i64) -> DeployerResult<PageWindow> {
    PageWindow::requested(curr_page, page_size, default_size)
        .map_err(|e| DeployerError::InvalidArgument(e.to_string()))
}

/// The page of a history list (the default page when none is asked for).
pub fn history(page: Option<&Page>) -> DeployerResult<PageWindow> {
    let (curr_page, page_size) = requested(page);
    window(curr_page, page_size, DEFAULT_PAGE_SIZE)
}

/// The page of a fleet list; `None` when the caller asked for none (every row, see
/// [`whole`]).
pub fn fleet(page: Option<&Page>) -> DeployerResult<Option<PageWindow>> {
    match requested(page) {
        (0, 0) => Ok(None),
        (curr_page, page_size) => window(curr_page, page_size, MAX_PAGE_SIZE).map(Some),
    }
}

/// An unpaged fleet list, refused when it is longer than one page may be.
pub fn whole<T>(rows: Vec<T>, what: &str) -> DeployerResult<Vec<T>> {
    if rows.len() as i64 > MAX_PAGE_SIZE {
        return Err(DeployerError::InvalidArgument(format!(
            "{} {what} match, more than one answer holds ({MAX_PAGE_SIZE}); \
             ask for them page by page with curr_page and page_size",
            rows.len()
        )));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_default_to_a_page_and_fleets_to_everything() {
        assert_eq!(
            history(None).unwrap(),
            PageWindow {
                offset: 0,
                limit: 20
            }
        );
        let page = |curr_page, page_size| Page {
            curr_page,
            page_size,
        };
        assert_eq!(
            history(Some(&page(3, 50))).unwrap(),
            PageWindow {
                offset: 100,
                limit: 50
            }
        );
        assert!(history(Some(&page(1, 1001))).is_err());
        assert!(history(Some(&page(-1, 10))).is_err());
        assert_eq!(fleet(None).unwrap(), None);
        assert_eq!(
            fleet(Some(&page(2, 0))).unwrap(),
            Some(PageWindow {
                offset: 1000,
                limit: 1000
            })
        );
        assert!(whole(vec![0; 1000], "servers").is_ok());
        let err = whole(vec![0; 1001], "servers").unwrap_err().to_string();
        assert!(err.contains("1001 servers match"), "{err}");
    }
}
