// What an application sees of a connection, whatever L5P (or none) carries it.
#pragma once
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/counters.h"

namespace autonic::l5p {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void on_data(ByteSpan data) = 0;  // in order, exactly as the peer's app sent it
  // The same, with the mark an inner L5P's NIC context set on these bytes (composed offloads:
  // NVMe crc_ok inside TLS records). Handlers that do not care get on_data.
  virtual void on_payload(ByteSpan data, bool /*inner_marked*/) { on_data(data); }
  // The inner L5P's NIC context can no longer follow the stream (e.g. the peer padded a TLS
  // record): it should tear its receive offload down and do the work in software.
  virtual void on_inner_lost() {}
  virtual void on_writable() = 0;           // send() may accept more
  // The peer finished sending (TCP FIN; TLS close_notify): no more on_data.
  virtual void on_eof() {}
  // The connection ended abnormally; `outcome` says why (e.g. "integrity:bad_check").
  virtual void on_failed(const std::string& outcome) = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual void set_handler(StreamHandler* h) = 0;
  // Accepts up to data.size() bytes; returns how many were taken. more: the application has
  // more to send right after this (like MSG_MORE), so a message-oriented L5P may leave a tail
  // shorter than a full message for the next call instead of cutting a short message.
  virtual size_t send(ByteSpan data, bool more = false) = 0;
  // Zero-copy send: the stream may keep a reference to `buf` until the peer acknowledges it;
  // the owner must not change it meanwhile (it can tell by buf.use_count()). Streams that
  // cannot send by reference copy.
  virtual size_t send_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len, bool more = false) {
    return send(ByteSpan(buf->data() + off, len), more);
  }
  virtual bool supports_zc() const { return false; }
  // Ends our sending side after what is queued (TLS: close_notify, then FIN).
  virtual void shutdown() {}
  // True when everything sent so far has been acknowledged by the peer.
  virtual bool all_acked() const = 0;
  virtual void export_stats(CounterMap& m) const = 0;
};

}  // namespace autonic::l5p
