#include "chunk_encoder.h"

#include <string>

#include "gtest/gtest.h"
#include "heapsnap.pb.h"

namespace heapsnap::writer_internal {
namespace {

// The hand-framed object chunk must be what the generated parser reads, field for field.
TEST(ChunkEncoder, TheGeneratedParserReadsTheObjectChunk) {
  ObjectColumns c;
  c.BeginObject({0x7000, TypeId(1), 120, 2, 5, 3}, 40);
  c.AddEdge({0x5000, EdgeKind::kTraverse, LabelKind::kIndex, 9}, 0x7000);
  c.AddEdge({0x9000, EdgeKind::kWeak, LabelKind::kAttribute, 3}, 0x7000);
  c.SetName(4, 5, 6);
  c.BeginObject({0x5000, TypeId(2), 53, 1, 0, 0}, 41);
  c.SetValue("hello", 7);
  c.last_continues = true;
  std::string buffer, scratch;
  proto::Record record;
  ASSERT_TRUE(record.ParseFromString(std::string(EncodeObjectChunk(c, &buffer, &scratch))));
  ASSERT_TRUE(record.has_objects());
  const proto::ObjectChunk& p = record.objects();
  EXPECT_EQ(p.first_index(), 40u);
  ASSERT_EQ(p.address_delta_size(), 2);
  EXPECT_EQ(p.address_delta(0), 0x7000);
  EXPECT_EQ(p.address_delta(1), -0x2000);
  EXPECT_EQ(p.type_id(1), 2u);
  EXPECT_EQ(p.size(0), 120u);
  EXPECT_EQ(p.refcount(0), 2u);
  EXPECT_EQ(p.flags(0), 5u);
  EXPECT_EQ(p.generation(0), 3u);
  ASSERT_EQ(p.edge_count_size(), 2);
  EXPECT_EQ(p.edge_count(0), 2u);
  EXPECT_EQ(p.edge_count(1), 0u);
  EXPECT_EQ(p.edge_target_delta(0), -0x2000);
  EXPECT_EQ(p.edge_target_delta(1), 0x2000);
  EXPECT_EQ(p.edge_kind(1), static_cast<uint32_t>(EdgeKind::kWeak));
  EXPECT_EQ(p.edge_label_kind(1), static_cast<uint32_t>(LabelKind::kAttribute));
  EXPECT_EQ(p.edge_label_value(0), 9u);
  ASSERT_EQ(p.names_size(), 1);
  EXPECT_EQ(p.names(0).object(), 0u);
  EXPECT_EQ(p.names(0).name(), 4u);
  EXPECT_EQ(p.names(0).file(), 5u);
  EXPECT_EQ(p.names(0).line(), 6u);
  ASSERT_EQ(p.value_object_size(), 1);
  EXPECT_EQ(p.value_object(0), 1u);
  EXPECT_EQ(p.value_length(0), 7u);
  EXPECT_EQ(p.value_end(0), 5u);
  EXPECT_EQ(p.value_text(), "hello");
  EXPECT_EQ(p.continued_edges(), 0u);
  EXPECT_TRUE(p.last_continues());
}

TEST(ChunkEncoder, StringChunksHoldEveryStringOnce) {
  StringTable strings;
  strings.Intern("a");
  strings.Intern(std::string(3, '\0'));
  uint32_t written = 0;
  proto::Record record;
  ASSERT_TRUE(record.ParseFromString(EncodeStringChunk(strings, &written)));
  EXPECT_EQ(written, 2u);
  ASSERT_EQ(record.strings().values_size(), 2);
  EXPECT_EQ(record.strings().values(0), "a");
  EXPECT_EQ(record.strings().values(1), std::string(3, '\0'));
}

}  // namespace
}  // namespace heapsnap::writer_internal
