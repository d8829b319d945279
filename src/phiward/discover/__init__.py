"""Finding PHI in files and folders: walk, read, detect, and report each file's state."""

from phiward.discover._scanner import FileResult, FileScanner, ScanOptions, ScanResult, scan_paths
from phiward.discover._walk import IGNORE_FILE, IgnoreMatcher, iter_files, parse_rules

__all__ = [
    "IGNORE_FILE",
    "FileResult",
    "FileScanner",
    "IgnoreMatcher",
    "ScanOptions",
    "ScanResult",
    "iter_files",
    "parse_rules",
    "scan_paths",
]
