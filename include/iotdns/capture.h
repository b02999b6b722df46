/* iotdns - reading captures: pcap and pcapng files (or standard input) and
 * live interfaces, through libpcap.
 *
 * Files are read through a stdio cookie that counts bytes (for the progress
 * line) and computes the SHA-256 of everything read (stored with the run to
 * detect a file analyzed twice).
 */
#ifndef IOTDNS_CAPTURE_H
#define IOTDNS_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "iotdns/common.h"

struct iotdns_capture;

/* Opens a pcap/pcapng file, or standard input for "-". Errors:
 * IOTDNS_ENOENT / IOTDNS_EIO (cannot open or read), IOTDNS_ENOTCAPTURE (not
 * a capture, or a header libpcap rejects), IOTDNS_EUNSUPPORTED (a link type
 * iotdns does not decode); err names the file. */
int iotdns_capture_open_file(struct iotdns_capture **out, const char *path, struct iotdns_err *err);

/* Opens a live interface (promiscuous, snaplen 65535, 200 ms read timeout)
 * with the BPF filter that selects what iotdns analyzes. */
int iotdns_capture_open_live(struct iotdns_capture **out, const char *iface, struct iotdns_err *err);

void iotdns_capture_close(struct iotdns_capture *c);

int iotdns_capture_linktype(const struct iotdns_capture *c);
const char *iotdns_capture_name(const struct iotdns_capture *c);

/* Next record: returns 1 with *hdr and *data set (borrowed until the next call),
 * 0 at the end of the file (or a live read time-out: check the stop flag and
 * call again), or a negative error with err set (IOTDNS_ETRUNCATED: the file
 * ends inside a record, or a record header is corrupt), naming the file and
 * the packet number. */
int iotdns_capture_next(struct iotdns_capture *c, const struct pcap_pkthdr **hdr, const uint8_t **data,
			struct iotdns_err *err);

/* Records returned so far (the number of the last record). */
uint64_t iotdns_capture_records(const struct iotdns_capture *c);
/* Bytes read from the file so far, and the file size (0 when unknown). */
uint64_t iotdns_capture_bytes(const struct iotdns_capture *c);
uint64_t iotdns_capture_size(const struct iotdns_capture *c);
/* SHA-256 of the bytes read so far; complete once next() returned 0. */
void iotdns_capture_sha256(struct iotdns_capture *c, char hex[65]);
/* Live captures: asks a blocking read to return (safe from a signal handler). */
void iotdns_capture_break(struct iotdns_capture *c);
/* SHA-256 of a whole file without parsing it (duplicate detection). */
int iotdns_file_sha256(const char *path, char hex[65], struct iotdns_err *err);

#endif
