// Internet checksum (RFC 1071) and the IPv4/TCP pseudo-header sum (RFC 793 §3.1).
#pragma once
#include <cstddef>
#include <cstdint>

namespace autonic {

// One's-complement sum of bytes, folded to 16 bits but not inverted.
uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
// Computes the TCP checksum of an IPv4 packet (ip points at the IP header). Returns the value
// to store in the header (with the checksum field treated as zero).
uint16_t tcp4_checksum(const uint8_t* ip, size_t ip_len);
// True if the TCP checksum in an IPv4 packet verifies.
bool tcp4_checksum_ok(const uint8_t* ip, size_t ip_len);
// Sets the IPv4 header checksum (ip points at the header; its IHL gives the length).
void ipv4_set_header_checksum(uint8_t* ip);

}  // namespace autonic
