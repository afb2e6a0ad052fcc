#include "proto/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "swapchaos/agent.pb.h"
#include "swapchaos/campaign.pb.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/kernel.pb.h"
#include "swapchaos/output.pb.h"
#include "swapchaos/scenario.pb.h"

namespace swapchaos {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string Protobufs(const Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, opts).ok());
  return out;
}

std::string Ours(const Message& m) {
  std::string out;
  AppendJson(m, &out);
  return out;
}

// Sets every field of `m` to a value that is not its default, nested
// messages included, each map and repeated field with one element (so
// protobuf's own output has no map order of its own to differ in). Strings
// carry what JSON must escape.
void FillEveryField(Message* m, int depth) {
  const google::protobuf::Reflection* r = m->GetReflection();
  const Descriptor* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_map()) {
      Message* e = r->AddMessage(m, f);
      FillEveryField(e, depth + 1);
      continue;
    }
    bool rep = f->is_repeated();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        rep ? r->AddInt32(m, f, -7) : r->SetInt32(m, f, -7);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        rep ? r->AddUInt32(m, f, 4000000000u) : r->SetUInt32(m, f, 4000000000u);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        rep ? r->AddInt64(m, f, -9000000000000000000) : r->SetInt64(m, f, -9000000000000000000);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        rep ? r->AddUInt64(m, f, UINT64_MAX) : r->SetUInt64(m, f, UINT64_MAX);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        rep ? r->AddDouble(m, f, 0.1) : r->SetDouble(m, f, 0.1);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        rep ? r->AddFloat(m, f, 2.5f) : r->SetFloat(m, f, 2.5f);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        rep ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* v = f->enum_type()->value(f->enum_type()->value_count() - 1);
        rep ? r->AddEnum(m, f, v) : r->SetEnum(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s = "a \"b\" \\c\n\t\x01\x7f é \u2028 \U0001F600 [ 12.5] <x>&";
        rep ? r->AddString(m, f, s) : r->SetString(m, f, s);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (depth < 4) FillEveryField(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f), depth + 1);
        break;
    }
  }
}

// Every message of every file of ours: filled, printed by both printers,
// the same bytes; and read back by protobuf's parser, the same message.
TEST(JsonTest, EveryMessageOfOursPrintsAsProtobufDoes) {
  int messages = 0;
  for (const google::protobuf::FileDescriptor* file :
       {agent::Sample::descriptor()->file(), controller::Verdict::descriptor()->file(),
        scenario::Scenario::descriptor()->file(), scenario::Campaign::descriptor()->file(),
        kernels::Certificate::descriptor()->file(),
        controller::CheckOutput::descriptor()->file()}) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const Descriptor* d = file->message_type(i);
      std::unique_ptr<Message> m(
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
      FillEveryField(m.get(), 0);
      std::string ours = Ours(*m);
      EXPECT_EQ(ours, Protobufs(*m)) << d->full_name();
      std::unique_ptr<Message> back(m->New());
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, back.get()).ok()) << ours;
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*m, *back)) << d->full_name();
      ++messages;
    }
  }
  EXPECT_GT(messages, 40);
}

TEST(JsonTest, EmptyAndSpecialValues) {
  EXPECT_EQ(Ours(agent::Sample()), Protobufs(agent::Sample()));
  // A zero is printed: a trace's fault 0 is found by its index.
  controller::FaultEvent first;
  EXPECT_NE(Ours(first).find("\"fault\":0,"), std::string::npos) << Ours(first);
  controller::Verdict v;
  v.set_recovered_after_s(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(Ours(v), Protobufs(v));
  v.set_recovered_after_s(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(Ours(v), Protobufs(v));
  v.set_recovered_after_s(1e300);
  EXPECT_EQ(Ours(v), Protobufs(v));
}

// Recorded telemetry (many map entries, in protobuf's own order in the
// file): read back from our output, every sample is the same message.
TEST(JsonTest, RecordedTelemetryRoundTrips) {
  std::ifstream in(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass/telemetry.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    agent::Sample s, back;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Ours(s), &back).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(s, back)) << line;
    ++n;
  }
  EXPECT_GT(n, 100);
}

}  // namespace
}  // namespace swapchaos
