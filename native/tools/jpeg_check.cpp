#include "tools/jpeg_check.hpp"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <stdexcept>

#include <jerror.h>
#include <jpeglib.h>

namespace facekeys {
namespace {

// libjpeg reports errors through callbacks; error_exit must not return, so it
// longjmps back to check_jpeg_data (C code in between: no destructors skipped).
struct ErrorTrap {
  jpeg_error_mgr mgr;  // first: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  bool damaged = false;
  char message[JMSG_LENGTH_MAX] = {};
};

bool means_damaged_data(int code) {
  switch (code) {
    case JWRN_HUFF_BAD_CODE:
    case JWRN_HIT_MARKER:        // premature end of data segment
    case JWRN_MUST_RESYNC:
    case JWRN_JPEG_EOF:
    case JWRN_EXTRANEOUS_DATA:   // bytes left over after a segment's data: it did not decode as coded
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
      return true;
    default:
      return false;
  }
}

void on_error(j_common_ptr cinfo) {
  auto* trap = reinterpret_cast<ErrorTrap*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, trap->message);
  std::longjmp(trap->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output, not a warning
  auto* trap = reinterpret_cast<ErrorTrap*>(cinfo->err);
  if (trap->damaged || !means_damaged_data(cinfo->err->msg_code)) return;
  trap->damaged = true;
  (*cinfo->err->format_message)(cinfo, trap->message);
}

}  // namespace

void check_jpeg_data(const std::uint8_t* data, std::size_t size, const std::string& name) {
  jpeg_decompress_struct cinfo{};
  ErrorTrap trap;
  cinfo.err = jpeg_std_error(&trap.mgr);
  trap.mgr.error_exit = on_error;
  trap.mgr.emit_message = on_message;
  if (setjmp(trap.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(name + ": corrupt JPEG data (libjpeg: " + trap.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;
  cinfo.dct_method = JDCT_IFAST;
  cinfo.do_fancy_upsampling = FALSE;
  jpeg_start_decompress(&cinfo);
  // The row buffer comes from libjpeg's pool (freed by jpeg_destroy_decompress), so no
  // C++ object changes between setjmp and a longjmp.
  JSAMPARRAY rows = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                               cinfo.output_width * static_cast<JDIMENSION>(cinfo.output_components), 1);
  while (cinfo.output_scanline < cinfo.output_height && !trap.damaged) jpeg_read_scanlines(&cinfo, rows, 1);
  if (!trap.damaged) jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (trap.damaged) throw std::runtime_error(name + ": corrupt JPEG data (libjpeg: " + trap.message + ")");
}

}  // namespace facekeys
