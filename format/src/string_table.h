// StringTable: the snapshot writer's interner. Each distinct string once, in one arena, found
// through an open-addressing index: no allocation per string, since a heap can hold millions of
// distinct dict keys. Ids are 1, 2, 3, ... in order of first sight, as the format numbers them.
//
//   StringTable t;
//   uint32_t id = t.Intern("name");   // 1; Intern("name") again gives 1
//   std::string_view s = t.Get(id);
#ifndef HEAPSNAP_FORMAT_SRC_STRING_TABLE_H_
#define HEAPSNAP_FORMAT_SRC_STRING_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heapsnap::writer_internal {

class StringTable {
 public:
  uint32_t Intern(std::string_view s);
  // The string with id 1..size().
  std::string_view Get(uint32_t id) const {
    return std::string_view(arena_).substr(offset_[id], offset_[id + 1] - offset_[id]);
  }
  uint32_t size() const { return next_id_ - 1; }

 private:
  void GrowIndex();

  std::string arena_;
  std::vector<uint64_t> offset_{0, 0};  // start of string id; one past the last
  std::vector<uint64_t> hash_{0};       // per id: rejects mismatches, rehashes cheaply
  std::vector<uint32_t> slots_ = std::vector<uint32_t>(1024, 0);  // 0 empty, else an id
  uint32_t next_id_ = 1;
};

}  // namespace heapsnap::writer_internal

#endif  // HEAPSNAP_FORMAT_SRC_STRING_TABLE_H_
