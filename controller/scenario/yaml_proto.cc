#include "controller/scenario/yaml_proto.h"

#include <fcntl.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace swapchaos::controller {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Join(const std::string& path, const std::string& field) {
  return path.empty() ? field : absl::StrCat(path, ".", field);
}

class Loader {
 public:
  explicit Loader(SourceMap* where) : where_(where) {}

  absl::Status Message(const YAML::Node& node, google::protobuf::Message* msg,
                       const std::string& path) {
    if (absl::Status s = Spend(path); !s.ok()) return s;
    Mark(path, node);
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) return where_->Error(path, "expected a mapping of field: value");
    const auto* desc = msg->GetDescriptor();
    std::set<std::string> seen;
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      std::string field_path = Join(path, key);
      Mark(field_path, kv.first);
      const FieldDescriptor* f = desc->FindFieldByName(key);
      if (f == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < desc->field_count(); ++i) known.push_back(desc->field(i)->name());
        return where_->Error(field_path, absl::StrCat("unknown field (", desc->name(),
                                                      " has: ", absl::StrJoin(known, ", "), ")"));
      }
      if (!seen.insert(key).second) {
        const YAML::Mark m = kv.first.Mark();
        return absl::InvalidArgumentError(absl::StrCat(
            where_->file(), ":", m.line + 1, ":", m.column + 1, ": ", field_path, ": given twice"));
      }
      if (const auto* oneof = f->real_containing_oneof()) {
        const FieldDescriptor* other = msg->GetReflection()->GetOneofFieldDescriptor(*msg, oneof);
        if (other != nullptr) {
          return where_->Error(field_path,
                               absl::StrCat("only one of ", oneof->name(), " may be given; ",
                                            other->name(), " already is"));
        }
      }
      if (absl::Status s = Field(kv.second, msg, f, field_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  // YAML aliases share one node however often they are named, so a few
  // kilobytes can stand for millions of values: measured, a 24 KB file took
  // 10 s and 1 GB before this bound. No real file comes near it.
  static constexpr int kMaxValues = 200000;
  absl::Status Spend(const std::string& path) {
    if (++values_ <= kMaxValues) return absl::OkStatus();
    return where_->Error(path, absl::StrCat("more than ", kMaxValues,
                                            " values in the file (aliases repeating a node?)"));
  }

  // A field's place is where its key is written; the first mark wins.
  void Mark(const std::string& path, const YAML::Node& node) {
    const YAML::Mark m = node.Mark();
    if (m.line >= 0) where_->Add(path, m.line + 1, m.column + 1);
  }

  absl::Status Field(const YAML::Node& node, google::protobuf::Message* msg,
                     const FieldDescriptor* f, const std::string& path) {
    if (!f->is_repeated()) return Value(node, msg, f, path, false);
    if (!node.IsSequence()) return where_->Error(path, "expected a list");
    for (size_t i = 0; i < node.size(); ++i) {
      std::string item = absl::StrCat(path, "[", i, "]");
      Mark(item, node[i]);
      if (absl::Status s = Value(node[i], msg, f, item, true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Value(const YAML::Node& node, google::protobuf::Message* msg,
                     const FieldDescriptor* f, const std::string& path, bool add) {
    const Reflection* r = msg->GetReflection();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      google::protobuf::Message* sub = add ? r->AddMessage(msg, f) : r->MutableMessage(msg, f);
      return Message(node, sub, path);
    }
    if (absl::Status s = Spend(path); !s.ok()) return s;
    if (!node.IsScalar()) return where_->Error(path, "expected a single value");
    const std::string text = node.Scalar();
    auto bad = [&](const std::string& what) {
      return where_->Error(path, absl::StrCat("expected ", what, ", got '", text, "'"));
    };
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        add ? r->AddString(msg, f, text) : r->SetString(msg, f, text);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool v;
        if (!absl::SimpleAtob(text, &v)) return bad("true or false");
        add ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double v;
        absl::string_view t = text;
        bool percent = absl::ConsumeSuffix(&t, "%");
        if (!absl::SimpleAtod(t, &v) || !std::isfinite(v)) return bad("a finite number");
        if (percent) v /= 100;
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
          add ? r->AddFloat(msg, f, static_cast<float>(v))
              : r->SetFloat(msg, f, static_cast<float>(v));
        } else {
          add ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        bool is32 = f->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
        if (!absl::SimpleAtoi(text, &v) || (is32 && (v < std::numeric_limits<int32_t>::min() ||
                                                     v > std::numeric_limits<int32_t>::max()))) {
          return bad("a whole number");
        }
        if (is32) {
          add ? r->AddInt32(msg, f, static_cast<int32_t>(v))
              : r->SetInt32(msg, f, static_cast<int32_t>(v));
        } else {
          add ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        bool is32 = f->cpp_type() == FieldDescriptor::CPPTYPE_UINT32;
        if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "-") ||
            !absl::SimpleAtoi(text, &v) || (is32 && v > std::numeric_limits<uint32_t>::max())) {
          return bad("a whole number >= 0");
        }
        if (is32) {
          add ? r->AddUInt32(msg, f, static_cast<uint32_t>(v))
              : r->SetUInt32(msg, f, static_cast<uint32_t>(v));
        } else {
          add ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* value = f->enum_type()->FindValueByName(text);
        if (value == nullptr) return bad(absl::StrCat("a ", f->enum_type()->name(), " name"));
        add ? r->AddEnum(msg, f, value) : r->SetEnum(msg, f, value);
        return absl::OkStatus();
      }
      default:
        return where_->Error(path, "unsupported field type");
    }
  }

  SourceMap* where_;
  int values_ = 0;
};

}  // namespace

void SourceMap::Add(const std::string& path, int line, int column) {
  at_.emplace(path, absl::StrCat(file_, ":", line, ":", column));
}

std::string SourceMap::Where(const std::string& path) const {
  // A field that is not written (a required one missing, a default that is
  // out of range) is placed where its parent is: "faults[2].spike.mib" at
  // "faults[2].spike", a top-level field at the document's start.
  for (std::string p = path; !p.empty();) {
    if (auto it = at_.find(p); it != at_.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
  auto root = at_.find("");
  return root != at_.end() ? root->second : file_;
}

absl::Status SourceMap::Error(const std::string& path, const std::string& what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(Where(path), ": ", path.empty() ? "" : path + ": ", what));
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": ", why));
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    std::string why = absl::StrCat("cannot read it: ", std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(absl::StrCat(what, " ", path, ": ", why))
                           : fail(why);
  }
  struct stat st;
  std::string text;
  absl::Status status;
  if (fstat(fd, &st) != 0) {
    status = fail(absl::StrCat("cannot read it: ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = fail("is not a regular file");
  } else if (st.st_size > kMaxInputBytes) {
    status = fail(absl::StrCat("is ", st.st_size, " bytes, more than the ", kMaxInputBytes, " a ",
                               what, " may have"));
  } else {
    text.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < text.size()) {
      ssize_t n = read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != text.size()) status = fail("changed while it was read");
  }
  close(fd);
  if (!status.ok()) return status;
  return text;
}

absl::Status YamlToProto(const std::string& yaml_text, google::protobuf::Message* msg,
                         SourceMap* where) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports parse errors by exception; this is the one place they
    // become a value, with the position it found.
    return absl::InvalidArgumentError(absl::StrCat(where->file(), ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": not valid YAML: ", e.msg));
  }
  return Loader(where).Message(root, msg, "");
}

}  // namespace swapchaos::controller
