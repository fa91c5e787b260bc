// Sanitizer builds only (WARDEN_SANITIZE): fontconfig, which librsvg uses
// to render the label's text, keeps its font cache for the life of the
// process and never frees it, so LeakSanitizer would fail every `warden`
// run that writes a PNG. Only leaks whose stack is inside libfontconfig are
// ignored; a leak of ours still fails the run.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}
