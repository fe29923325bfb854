//! The page a list request asks for, by the platform's paging rules.

use tars_proto::common::Page;
use tars_store::{PageWindow, DEFAULT_PAGE_SIZE};

use crate::error::{TaskError, TaskResult};

/// The window of `page` (the default page when absent).
pub fn window(page: Option<&Page>) -> TaskResult<PageWindow> {
    let (curr_page, page_size) = page.map_or((0, 0), |p| (p.curr_page, p.page_size));
    PageWindow::requested(curr_page, page_size, DEFAULT_PAGE_SIZE)
        .map_err(|e| TaskError::InvalidArgument(e.to_string()))
}
