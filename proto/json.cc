#include "proto/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/strutil.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace swapchaos {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// JSON's escapes, plus those protobuf's printer adds for HTML and
// JavaScript: < > DEL U+2028 U+2029. (It escapes a few more format
// characters of Unicode, which we write as they are: valid JSON, read back
// the same.)
bool NeedsEscape(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || u == 0x7f || u == 0xe2;
}

void AppendString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t plain = i;
    while (plain < s.size() && !NeedsEscape(s[plain])) ++plain;
    out->append(s.data() + i, plain - i);  // most text needs no escape: one copy
    if (plain == s.size()) break;
    i = plain;
    char c = s[i];
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '<': out->append("\\u003c"); break;
      case '>': out->append("\\u003e"); break;
      case '\x7f': out->append("\\u007f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xf]);
          out->push_back(kHex[c & 0xf]);
        } else if (i + 2 < s.size() && s[i + 1] == '\x80' &&
                   (s[i + 2] == '\xa8' || s[i + 2] == '\xa9')) {
          out->append(s[i + 2] == '\xa8' ? "\\u2028" : "\\u2029");
          i += 2;
        } else {
          out->push_back(c);  // another character starting with 0xe2
        }
    }
    ++i;
  }
  out->push_back('"');
}

template <typename T>
void AppendFloat(T v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if constexpr (std::is_same_v<T, float>) {
    out->append(google::protobuf::SimpleFtoa(v));
  } else {
    out->append(google::protobuf::SimpleDtoa(v));
  }
}

// One value of `field` (element `index` when repeated, else -1).
void AppendValue(const Message& m, const FieldDescriptor* field, int index, std::string* out) {
  const Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, rep ? r->GetRepeatedInt32(m, field, index) : r->GetInt32(m, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, rep ? r->GetRepeatedUInt32(m, field, index) : r->GetUInt32(m, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, "\"", rep ? r->GetRepeatedInt64(m, field, index) : r->GetInt64(m, field),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, "\"",
                      rep ? r->GetRepeatedUInt64(m, field, index) : r->GetUInt64(m, field), "\"");
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendFloat(rep ? r->GetRepeatedDouble(m, field, index) : r->GetDouble(m, field), out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(rep ? r->GetRepeatedFloat(m, field, index) : r->GetFloat(m, field), out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, field, index) : r->GetBool(m, field)) ? "true"
                                                                                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      int v = rep ? r->GetRepeatedEnumValue(m, field, index) : r->GetEnumValue(m, field);
      const auto* named = field->enum_type()->FindValueByNumber(v);
      if (named != nullptr) {
        AppendString(named->name(), out);
      } else {
        absl::StrAppend(out, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, field, index, &scratch)
                                 : r->GetStringReference(m, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        AppendString(absl::Base64Escape(s), out);
      } else {
        AppendString(s, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendJson(rep ? r->GetRepeatedMessage(m, field, index) : r->GetMessage(m, field), out);
      break;
  }
}

// A map key as JSON's object keys are: always a string.
std::string MapKey(const Message& entry, const FieldDescriptor* key) {
  const Reflection* r = entry.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return r->GetString(entry, key);
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(entry, key) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(r->GetInt32(entry, key));
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(r->GetUInt32(entry, key));
    case FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(r->GetInt64(entry, key));
    default: return absl::StrCat(r->GetUInt64(entry, key));
  }
}

void AppendMap(const Message& m, const FieldDescriptor* field, std::string* out) {
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* key = field->message_type()->map_key();
  const FieldDescriptor* value = field->message_type()->map_value();
  int n = r->FieldSize(m, field);
  std::vector<std::pair<std::string, const Message*>> entries;
  entries.reserve(n);
  for (int i = 0; i < n; ++i) {
    const Message& e = r->GetRepeatedMessage(m, field, i);
    entries.emplace_back(MapKey(e, key), &e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendString(entries[i].first, out);
    out->push_back(':');
    AppendValue(*entries[i].second, value, -1, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendJson(const Message& m, std::string* out) {
  const Reflection* r = m.GetReflection();
  // Every field a reader may look for, zeros and empty lists included
  // (jq 'select(.fault == 0)' found nothing when 0 was left out); only
  // what has presence (messages, oneof members, optional) when set.
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || !f->has_presence() || r->HasField(m, f)) fields.push_back(f);
  }
  std::sort(fields.begin(), fields.end(),
            [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
  out->push_back('{');
  bool first = true;
  for (const FieldDescriptor* f : fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(f->name(), out);
    out->push_back(':');
    if (f->is_map()) {
      AppendMap(m, f, out);
    } else if (f->is_repeated()) {
      out->push_back('[');
      for (int i = 0, n = r->FieldSize(m, f); i < n; ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(m, f, i, out);
      }
      out->push_back(']');
    } else {
      AppendValue(m, f, -1, out);
    }
  }
  out->push_back('}');
}

std::string JsonTimeNow() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

}  // namespace swapchaos
