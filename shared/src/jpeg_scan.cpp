// The JPEG scan validator (jpeg_scan.hpp). It follows libjpeg-turbo 2.1's
// decoder step by step where its verdict depends on it (jdmarker.c's marker
// reader, jdhuff.c's bit reader and Huffman decoding, jdphuff.c's progressive
// scans, jdinput.c's frame checks), so that the page refuses what
// `facekeys predict` refuses (native/jpeg_check.cpp asks libjpeg): the
// differential test in tests/predict holds the two together.
#include "facekeys/jpeg_scan.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "facekeys/image_header.hpp"

namespace facekeys {

namespace {

struct Corrupt {
  std::string what;
};
// A file of a kind this validator does not check (arithmetic coding, missing tables).
struct NotChecked {};

std::string hex2(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", v & 0xff);
  return b;
}

constexpr int kLookahead = 8;     // HUFF_LOOKAHEAD
constexpr int kMinGetBits = 57;   // MIN_GET_BITS with a 64-bit bit buffer
constexpr int kMaxScans = 1000;

// jpeg_make_d_derived_tbl: a Huffman table ready for decoding.
struct HuffTable {
  bool defined = false;
  std::uint8_t bits[17] = {};
  std::uint8_t vals[256] = {};
  // derived
  bool built = false;
  bool built_dc = false;
  long maxcode[18] = {};
  long valoffset[18] = {};
  std::uint16_t lookup[1 << kLookahead] = {};  // (length << 8) | symbol; length 9: longer code
};

void build(HuffTable& t, bool dc) {
  if (t.built && t.built_dc == dc) return;
  char huffsize[257];
  unsigned huffcode[257];
  int p = 0;
  for (int l = 1; l <= 16; ++l) {
    const int i = t.bits[l];
    if (p + i > 256) throw Corrupt{"bogus Huffman table definition"};
    for (int k = 0; k < i; ++k) huffsize[p++] = static_cast<char>(l);
  }
  huffsize[p] = 0;
  const int numsymbols = p;
  unsigned code = 0;
  int si = huffsize[0];
  p = 0;
  while (huffsize[p]) {
    while (static_cast<int>(huffsize[p]) == si) {
      huffcode[p++] = code;
      code++;
    }
    if (code >= (1u << si)) throw Corrupt{"bogus Huffman table definition"};
    code <<= 1;
    si++;
  }
  p = 0;
  for (int l = 1; l <= 16; ++l) {
    if (t.bits[l]) {
      t.valoffset[l] = static_cast<long>(p) - static_cast<long>(huffcode[p]);
      p += t.bits[l];
      t.maxcode[l] = static_cast<long>(huffcode[p - 1]);
    } else {
      t.maxcode[l] = -1;
    }
  }
  t.valoffset[17] = 0;
  t.maxcode[17] = 0xFFFFFL;  // ensures the slow decoder terminates
  for (auto& e : t.lookup) e = (kLookahead + 1) << 8;
  p = 0;
  for (int l = 1; l <= kLookahead; ++l)
    for (int i = 1; i <= t.bits[l]; ++i, ++p) {
      unsigned look = huffcode[p] << (kLookahead - l);
      for (int ctr = 1 << (kLookahead - l); ctr > 0; --ctr) t.lookup[look++] = static_cast<std::uint16_t>((l << 8) | t.vals[p]);
    }
  if (dc)
    for (int i = 0; i < numsymbols; ++i)
      if (t.vals[i] > 15) throw Corrupt{"bogus Huffman table definition"};
  t.built = true;
  t.built_dc = dc;
}

struct Component {
  int id = 0, h = 1, v = 1, tq = 0;
  int width_in_blocks = 0, height_in_blocks = 0;
  bool quant_latched = false;
  int coef_bits[64];
  std::vector<std::uint64_t> nonzero;  // progressive: per block, bit k = coefficient k (zigzag) is nonzero
};

class Validator {
  struct ScanComp {
    Component* comp;
    int td, ta;
    HuffTable* dc = nullptr;
    HuffTable* ac = nullptr;
  };

 public:
  Validator(const std::uint8_t* data, std::size_t size) : d_(data), n_(size) {}

  void run() {
    if (n_ < 2 || d_[0] != 0xFF || d_[1] != 0xD8)
      throw Corrupt{"not a JPEG file: starts with " + hex2(n_ > 0 ? d_[0] : 0) + " " + hex2(n_ > 1 ? d_[1] : 0)};
    pos_ = 2;
    for (;;) {
      if (marker_ == 0) marker_ = next_marker();
      const int m = marker_;
      marker_ = 0;
      switch (m) {
        case 0xD8: throw Corrupt{"duplicate SOI marker"};
        case 0xC0:
        case 0xC1: sof(false); break;
        case 0xC2: sof(true); break;
        case 0xC9:
        case 0xCA: throw NotChecked{};  // arithmetic coding
        case 0xC3: case 0xC5: case 0xC6: case 0xC7: case 0xC8: case 0xCB: case 0xCD: case 0xCE: case 0xCF:
          throw Corrupt{"unsupported JPEG process: SOF type " + hex2(m)};
        case 0xC4: dht(); break;
        case 0xDB: dqt(); break;
        case 0xDD: dri(); break;
        case 0xDA: sos(); break;
        case 0xD9:
          if (scans_ == 0) throw Corrupt{"JPEG datastream contains no image"};
          return;
        case 0xCC:  // DAC
        case 0xDC:  // DNL
        case 0xFE:  // COM
          skip_variable();
          break;
        case 0x01:
        case 0xD0: case 0xD1: case 0xD2: case 0xD3: case 0xD4: case 0xD5: case 0xD6: case 0xD7:
          break;  // parameterless markers
        default:
          if (m >= 0xE0 && m <= 0xEF) {
            skip_variable();
            break;
          }
          throw Corrupt{"unsupported marker type " + hex2(m)};
      }
    }
  }

 private:
  // ---- bytes and markers (jdmarker.c) -------------------------------------
  int byte() {
    if (pos_ >= n_) throw Corrupt{"premature end of JPEG file"};
    return d_[pos_++];
  }
  int u16() {
    const int hi = byte();
    return (hi << 8) | byte();
  }

  int next_marker() {
    int c;
    for (;;) {
      c = byte();
      while (c != 0xFF) {
        ++discarded_;
        c = byte();
      }
      do c = byte();
      while (c == 0xFF);
      if (c != 0) break;
      discarded_ += 2;  // FF 00 outside a scan: not a marker
    }
    if (discarded_ != 0)
      throw Corrupt{std::to_string(discarded_) + " extraneous bytes before marker " + hex2(c) + where()};
    return c;
  }

  void skip_variable() {
    const long length = u16() - 2;
    if (length > 0) {
      if (static_cast<std::size_t>(length) > n_ - pos_) throw Corrupt{"premature end of JPEG file"};
      pos_ += static_cast<std::size_t>(length);
    }
  }

  void sof(bool progressive) {
    long length = u16();
    const int precision = byte();
    const long long height = u16(), width = u16();
    const int nc = byte();
    length -= 8;
    if (saw_sof_) throw Corrupt{"invalid JPEG file structure: two SOF markers"};
    saw_sof_ = true;
    progressive_ = progressive;
    if (height <= 0 || width <= 0 || nc <= 0) throw Corrupt{"empty JPEG image (DNL not supported)"};
    if (length != nc * 3) throw Corrupt{"bogus marker length (SOF)"};
    comps_.resize(static_cast<std::size_t>(nc));
    for (Component& c : comps_) {
      c.id = byte();
      const int hv = byte();
      c.h = (hv >> 4) & 15;
      c.v = hv & 15;
      c.tq = byte();
      for (int& b : c.coef_bits) b = -1;
    }
    width_ = width;
    height_ = height;
    precision_ = precision;
  }

  // jdinput.c initial_setup, at the first SOS.
  void initial_setup() {
    if (height_ > 65500 || width_ > 65500) throw Corrupt{"maximum supported image dimension is 65500 pixels"};
    if (precision_ != 8) throw Corrupt{"unsupported JPEG data precision " + std::to_string(precision_)};
    if (comps_.size() > 10) throw Corrupt{"too many color components: " + std::to_string(comps_.size())};
    if (width_ * height_ > kMaxImagePixels) throw Corrupt{"image too large to check"};
    max_h_ = max_v_ = 1;
    for (const Component& c : comps_) {
      if (c.h <= 0 || c.h > 4 || c.v <= 0 || c.v > 4) throw Corrupt{"bogus sampling factors"};
      max_h_ = std::max(max_h_, c.h);
      max_v_ = std::max(max_v_, c.v);
    }
    for (Component& c : comps_) {
      c.width_in_blocks = static_cast<int>((width_ * c.h + max_h_ * 8 - 1) / (max_h_ * 8));
      c.height_in_blocks = static_cast<int>((height_ * c.v + max_v_ * 8 - 1) / (max_v_ * 8));
    }
    setup_done_ = true;
  }

  void dht() {
    long length = u16() - 2;
    while (length > 16) {
      int index = byte();
      HuffTable t;
      t.defined = true;
      int count = 0;
      for (int i = 1; i <= 16; ++i) {
        t.bits[i] = static_cast<std::uint8_t>(byte());
        count += t.bits[i];
      }
      length -= 1 + 16;
      if (count > 256 || count > length) throw Corrupt{"bogus Huffman table definition"};
      for (int i = 0; i < count; ++i) t.vals[i] = static_cast<std::uint8_t>(byte());
      length -= count;
      const bool ac = index & 0x10;
      if (ac) index -= 0x10;
      if (index < 0 || index >= 4) throw Corrupt{"bogus DHT index " + std::to_string(index)};
      (ac ? ac_ : dc_)[index] = t;
    }
    if (length != 0) throw Corrupt{"bogus marker length (DHT)"};
  }

  void dqt() {
    long length = u16() - 2;
    while (length > 0) {
      length--;
      const int n = byte();
      const int prec = n >> 4, t = n & 15;
      if (t >= 4) throw Corrupt{"bogus DQT index " + std::to_string(t)};
      long count = 64;
      if (length < 64 * (prec ? 2 : 1)) count = length / (prec ? 2 : 1);  // libjpeg-turbo takes a short table
      for (long i = 0; i < count * (prec ? 2 : 1); ++i) byte();
      length -= count * (prec ? 2 : 1);
      quant_[t] = true;
    }
    if (length != 0) throw Corrupt{"bogus marker length (DQT)"};
  }

  void dri() {
    if (u16() != 4) throw Corrupt{"bogus marker length (DRI)"};
    restart_interval_ = u16();
  }

  // ---- one scan -------------------------------------------------------------
  void sos() {
    if (!saw_sof_) throw Corrupt{"invalid JPEG file structure: SOS before SOF"};
    const int length = u16();
    const int n = byte();
    if (length != n * 2 + 6 || n < 1 || n > 4) throw Corrupt{"bogus marker length (SOS)"};
    scan_.clear();
    for (int i = 0; i < n; ++i) {
      const int cc = byte(), tables = byte();
      Component* comp = nullptr;
      for (Component& c : comps_)
        if (c.id == cc) {
          comp = &c;
          break;
        }
      if (!comp) throw Corrupt{"invalid component ID " + std::to_string(cc) + " in SOS"};
      scan_.push_back({comp, (tables >> 4) & 15, tables & 15});
    }
    ss_ = byte();
    se_ = byte();
    const int a = byte();
    ah_ = (a >> 4) & 15;
    al_ = a & 15;
    // Each scan walks every block of its components, even on no data (end-of-band
    // runs), so a small file of many scans could keep the check busy for minutes.
    // Photos have at most a few dozen; libjpeg has no such limit (djpeg's -maxscans does).
    if (++scans_ > kMaxScans) throw Corrupt{"more than " + std::to_string(kMaxScans) + " scans"};
    if (!setup_done_) initial_setup();
    per_scan_setup();
    if (progressive_) start_progressive();
    else start_sequential();
    decode_scan();
  }

  void per_scan_setup() {
    if (scan_.size() == 1) {
      const Component& c = *scan_[0].comp;
      mcus_per_row_ = c.width_in_blocks;
      mcu_rows_ = c.height_in_blocks;
      blocks_in_mcu_ = 1;
    } else {
      mcus_per_row_ = static_cast<int>((width_ + max_h_ * 8 - 1) / (max_h_ * 8));
      mcu_rows_ = static_cast<int>((height_ + max_v_ * 8 - 1) / (max_v_ * 8));
      int blocks = 0;
      for (const ScanComp& s : scan_) blocks += s.comp->h * s.comp->v;
      if (blocks > 10) throw Corrupt{"sampling factors too large for an interleaved scan"};
      blocks_in_mcu_ = blocks;
    }
    for (ScanComp& s : scan_) {
      Component& c = *s.comp;
      if (!c.quant_latched) {
        if (c.tq < 0 || c.tq >= 4 || !quant_[c.tq]) throw Corrupt{"quantization table " + std::to_string(c.tq) + " was not defined"};
        c.quant_latched = true;
      }
    }
  }

  HuffTable& table(bool dc, int no) {
    if (no < 0 || no >= 4) throw Corrupt{"Huffman table " + std::to_string(no) + " was not defined"};
    HuffTable& t = (dc ? dc_ : ac_)[no];
    if (!t.defined) {
      if (no < 2) throw NotChecked{};  // libjpeg-turbo substitutes the standard tables
      throw Corrupt{"Huffman table " + std::to_string(no) + " was not defined"};
    }
    build(t, dc);
    return t;
  }

  void start_sequential() {
    if (ss_ != 0 || se_ != 63 || ah_ != 0 || al_ != 0) throw Corrupt{"invalid SOS parameters for sequential JPEG" + where()};
    for (ScanComp& s : scan_) {
      s.dc = &table(true, s.td);
      s.ac = &table(false, s.ta);
    }
  }

  void start_progressive() {
    const bool dc_band = ss_ == 0;
    bool bad = false;
    if (dc_band) {
      if (se_ != 0) bad = true;
    } else {
      if (ss_ > se_ || se_ >= 64) bad = true;
      if (scan_.size() != 1) bad = true;
    }
    if (ah_ != 0 && al_ != ah_ - 1) bad = true;
    if (al_ > 13) bad = true;
    if (bad)
      throw Corrupt{"invalid progressive parameters Ss=" + std::to_string(ss_) + " Se=" + std::to_string(se_) +
                    " Ah=" + std::to_string(ah_) + " Al=" + std::to_string(al_)};
    for (ScanComp& s : scan_) {
      int* bits = s.comp->coef_bits;
      if (!dc_band && bits[0] < 0) throw Corrupt{"inconsistent progression sequence (AC before DC)" + where()};
      for (int k = ss_; k <= se_; ++k) {
        const int expected = bits[k] < 0 ? 0 : bits[k];
        if (ah_ != expected) throw Corrupt{"inconsistent progression sequence" + where()};
        bits[k] = al_;
      }
      if (dc_band) {
        if (ah_ == 0) s.dc = &table(true, s.td);
      } else {
        s.ac = &table(false, s.ta);
        Component& c = *s.comp;
        if (c.nonzero.empty())
          c.nonzero.assign(static_cast<std::size_t>(c.width_in_blocks) * static_cast<std::size_t>(c.height_in_blocks), 0);
      }
    }
  }

  // ---- the bit reader (jdhuff.c's jpeg_fill_bit_buffer) ---------------------
  void fill(int nbits) {
    if (marker_ == 0) {
      while (bits_left_ < kMinGetBits) {
        int c = byte();
        if (c == 0xFF) {
          do c = byte();
          while (c == 0xFF);
          if (c == 0) {
            c = 0xFF;
          } else {
            marker_ = c;
            break;
          }
        }
        buf_ = (buf_ << 8) | static_cast<std::uint64_t>(c);
        bits_left_ += 8;
      }
    }
    if (nbits > bits_left_) throw Corrupt{"premature end of data segment" + where()};
  }
  void check_bits(int n) {
    if (bits_left_ < n) fill(n);
  }
  int get_bits(int n) {
    bits_left_ -= n;
    return static_cast<int>((buf_ >> bits_left_) & ((1u << n) - 1));
  }

  // HUFF_DECODE and jpeg_huff_decode.
  int decode(const HuffTable& t) {
    if (bits_left_ < kLookahead) {
      fill(0);
      if (bits_left_ < kLookahead) return slow_decode(t, 1);
    }
    const int look = static_cast<int>((buf_ >> (bits_left_ - kLookahead)) & ((1 << kLookahead) - 1));
    const int nb = t.lookup[look] >> 8;
    if (nb <= kLookahead) {
      bits_left_ -= nb;
      return t.lookup[look] & 0xFF;
    }
    return slow_decode(t, nb);
  }
  int slow_decode(const HuffTable& t, int min_bits) {
    int l = min_bits;
    check_bits(l);
    long code = get_bits(l);
    while (code > t.maxcode[l]) {
      code <<= 1;
      check_bits(1);
      code |= get_bits(1);
      l++;
    }
    if (l > 16) throw Corrupt{"bad Huffman code" + where()};
    return t.vals[static_cast<int>(code + t.valoffset[l]) & 0xFF];
  }

  // ---- jdhuff.c's fast path -------------------------------------------------
  // Sequential scans without restart intervals are decoded MCU by MCU with a
  // faster reader while at least 512 bytes per block of the MCU are left and
  // no marker was seen. It differs in what matters here: a bad Huffman code
  // decodes as symbol 0 without a warning (libjpeg-turbo 2.1's
  // HUFF_DECODE_FAST), and a marker makes it give the MCU up to the careful
  // reader above. Following it is what keeps the verdicts libjpeg's.
  void get_byte_fast() {
    if (pos_ + 1 >= n_) {  // cannot happen with 512 bytes a block left; kept for memory safety
      fast_marker_ = 0xD9;
      buf_ <<= 8;
      bits_left_ += 8;
      return;
    }
    const int c0 = d_[pos_++], c1 = d_[pos_];
    buf_ = (buf_ << 8) | static_cast<std::uint64_t>(c0);
    bits_left_ += 8;
    if (c0 == 0xFF) {
      pos_++;
      if (c1 != 0) {  // a marker: back out, read zeros instead
        fast_marker_ = c1;
        pos_ -= 2;
        buf_ &= ~std::uint64_t{0xFF};
      }
    }
  }
  void fill_fast() {
    if (bits_left_ <= 16)
      for (int i = 0; i < 6; ++i) get_byte_fast();
  }
  int decode_fast(const HuffTable& t) {
    fill_fast();
    int v = t.lookup[(buf_ >> (bits_left_ - kLookahead)) & ((1 << kLookahead) - 1)];
    int nb = v >> 8;
    bits_left_ -= nb;
    v &= 0xFF;
    if (nb > kLookahead) {
      long code = static_cast<long>((buf_ >> bits_left_) & ((1u << nb) - 1));
      while (code > t.maxcode[nb]) {
        code <<= 1;
        code |= get_bits(1);
        nb++;
      }
      v = nb > 16 ? 0 : t.vals[static_cast<int>(code + t.valoffset[nb]) & 0xFF];
    }
    return v;
  }
  void block_fast(const ScanComp& s) {
    int v = decode_fast(*s.dc);
    if (v) {
      fill_fast();
      get_bits(v);
    }
    for (int k = 1; k < 64; ++k) {
      v = decode_fast(*s.ac);
      const int r = v >> 4, sz = v & 15;
      if (sz) {
        k += r;
        fill_fast();
        get_bits(sz);
      } else {
        if (r != 15) break;
        k += 15;
      }
    }
  }
  // One MCU the fast way; false (state as before) when it met a marker.
  bool mcu_fast() {
    const std::size_t pos = pos_;
    const std::uint64_t buf = buf_;
    const int bits = bits_left_;
    for (const ScanComp& s : scan_)
      for (int i = 0; i < (scan_.size() == 1 ? 1 : s.comp->h * s.comp->v); ++i) block_fast(s);
    if (fast_marker_ == 0) return true;
    fast_marker_ = 0;
    pos_ = pos;
    buf_ = buf;
    bits_left_ = bits;
    return false;
  }

  // jdhuff.c / jdphuff.c process_restart, with jdmarker.c read_restart_marker.
  void restart() {
    discarded_ += bits_left_ / 8;
    bits_left_ = 0;
    if (marker_ == 0) marker_ = next_marker();
    if (marker_ != 0xD0 + next_restart_) {
      throw Corrupt{"found marker " + hex2(marker_) + " instead of RST" + std::to_string(next_restart_) + where()};
    }
    marker_ = 0;
    next_restart_ = (next_restart_ + 1) & 7;
    eobrun_ = 0;
  }

  std::string where() const {
    return " (scan " + std::to_string(scans_) + ", byte " + std::to_string(pos_) + ")";
  }

  // ---- MCUs -----------------------------------------------------------------
  void decode_scan() {
    bits_left_ = 0;
    buf_ = 0;
    eobrun_ = 0;
    next_restart_ = 0;
    int restarts_to_go = restart_interval_;
    const bool single = scan_.size() == 1;
    for (int row = 0; row < mcu_rows_; ++row)
      for (int col = 0; col < mcus_per_row_; ++col) {
        if (restart_interval_) {
          if (restarts_to_go == 0) {
            restart();
            restarts_to_go = restart_interval_;
          }
          restarts_to_go--;
        }
        if (!progressive_ && !restart_interval_ && marker_ == 0 && n_ - pos_ >= 512 * static_cast<std::size_t>(blocks_in_mcu_) && mcu_fast())
          continue;
        if (single) {
          block(scan_[0], static_cast<std::size_t>(row) * static_cast<std::size_t>(scan_[0].comp->width_in_blocks) + col);
        } else {
          for (ScanComp& s : scan_)
            for (int i = 0; i < s.comp->h * s.comp->v; ++i) block(s, 0);
        }
      }
    // libjpeg drops what is left in its bit buffer at the end of a scan.
    bits_left_ = 0;
  }

  void block(ScanComp& s, std::size_t index) {
    if (!progressive_) {
      int v = decode(*s.dc);
      if (v) {
        check_bits(v);
        get_bits(v);
      }
      for (int k = 1; k < 64; ++k) {
        v = decode(*s.ac);
        const int r = v >> 4, sz = v & 15;
        if (sz) {
          k += r;
          check_bits(sz);
          get_bits(sz);
        } else {
          if (r != 15) break;
          k += 15;
        }
      }
      return;
    }
    if (ss_ == 0) {  // DC
      if (ah_ == 0) {
        const int v = decode(*s.dc);
        if (v) {
          check_bits(v);
          get_bits(v);
        }
      } else {
        check_bits(1);
        get_bits(1);
      }
      return;
    }
    std::uint64_t& nz = s.comp->nonzero[index];
    if (ah_ == 0) {  // AC first
      if (eobrun_ > 0) {
        eobrun_--;
        return;
      }
      for (int k = ss_; k <= se_; ++k) {
        const int v = decode(*s.ac);
        int r = v >> 4;
        const int sz = v & 15;
        if (sz) {
          k += r;
          check_bits(sz);
          get_bits(sz);
          nz |= std::uint64_t{1} << std::min(k, 63);  // libjpeg's natural-order table maps k > 63 to 63
        } else {
          if (r == 15) {
            k += 15;
          } else {
            eobrun_ = 1u << r;
            if (r) {
              check_bits(r);
              eobrun_ += static_cast<unsigned>(get_bits(r));
            }
            eobrun_--;
            break;
          }
        }
      }
      return;
    }
    // AC refinement
    int k = ss_;
    if (eobrun_ == 0) {
      for (; k <= se_; ++k) {
        const int v = decode(*s.ac);
        int r = v >> 4;
        const int sz = v & 15;
        if (sz) {
          if (sz != 1) throw Corrupt{"bad Huffman code" + where()};
          check_bits(1);
          get_bits(1);
        } else if (r != 15) {
          eobrun_ = 1u << r;
          if (r) {
            check_bits(r);
            eobrun_ += static_cast<unsigned>(get_bits(r));
          }
          break;
        }
        do {
          if (k < 64 && (nz >> k & 1)) {
            check_bits(1);
            get_bits(1);
          } else {
            if (--r < 0) break;
          }
          k++;
        } while (k <= se_);
        if (sz) nz |= std::uint64_t{1} << std::min(k, 63);
      }
    }
    if (eobrun_ > 0) {
      for (; k <= se_; ++k)
        if (k < 64 && (nz >> k & 1)) {
          check_bits(1);
          get_bits(1);
        }
      eobrun_--;
    }
  }

  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t pos_ = 0;
  int marker_ = 0;  // libjpeg's unread_marker
  long discarded_ = 0;
  bool saw_sof_ = false, progressive_ = false, setup_done_ = false;
  long long width_ = 0, height_ = 0;
  int precision_ = 8;
  int max_h_ = 1, max_v_ = 1;
  std::vector<Component> comps_;
  HuffTable dc_[4], ac_[4];
  bool quant_[4] = {};
  int restart_interval_ = 0;
  std::vector<ScanComp> scan_;
  int ss_ = 0, se_ = 63, ah_ = 0, al_ = 0;
  int scans_ = 0;
  int mcus_per_row_ = 0, mcu_rows_ = 0, blocks_in_mcu_ = 1;
  int fast_marker_ = 0;
  std::uint64_t buf_ = 0;
  int bits_left_ = 0;
  unsigned eobrun_ = 0;
  int next_restart_ = 0;
};

}  // namespace

std::string jpeg_scan_problem(const std::uint8_t* data, std::size_t size) {
  try {
    Validator(data, size).run();
  } catch (const Corrupt& c) {
    return "corrupt JPEG data: " + c.what;
  } catch (const NotChecked&) {
  }
  return "";
}

void check_jpeg_scan(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const std::string problem = jpeg_scan_problem(data, size);
  if (!problem.empty()) throw std::runtime_error(name + ": " + problem);
}

}  // namespace facekeys
