// The snapshot writer's encoders: one serialized Record (a record's payload) per function. The
// object chunk, which is most of a snapshot and is written while the program is paused, and the
// string chunk are framed by hand from columns already in wire format, with the field numbers
// the generated code defines; the small records go through the generated classes.
#ifndef HEAPSNAP_FORMAT_SRC_CHUNK_ENCODER_H_
#define HEAPSNAP_FORMAT_SRC_CHUNK_ENCODER_H_

#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/format/internal/object_columns.h"
#include "heapsnap/format/types.h"
#include "string_table.h"

namespace heapsnap::writer_internal {

std::string EncodeHeader(const HeaderInfo& header);
// The strings after *written, as many as fit a record well under the format's limit (at least
// one); advances *written past them.
std::string EncodeStringChunk(const StringTable& strings, uint32_t* written);
std::string EncodeTypeChunk(const std::vector<TypeRecord>& types);
std::string EncodeRootChunk(const std::vector<RootRecord>& roots);
std::string EncodeSizeFixupChunk(const std::vector<SizeFixup>& fixups);
std::string EncodeTrailer(const TrailerInfo& totals);
// The record is built in *buffer after a gap for its own header, and *scratch is working space
// (both reused from chunk to chunk); returns the record, a view into *buffer.
std::string_view EncodeObjectChunk(const ObjectColumns& columns, std::string* buffer,
                                   std::string* scratch);

}  // namespace heapsnap::writer_internal

#endif  // HEAPSNAP_FORMAT_SRC_CHUNK_ENCODER_H_
