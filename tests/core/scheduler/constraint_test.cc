// Placement constraints: Docker's `KEY==VALUE` / `KEY!=VALUE` syntax, every key, whitespace, case,
// missing labels, and an error naming the expression for each malformed form.
#include "core/scheduler/constraint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::scheduler {
namespace {

storepb::NodeObject sample_node() {
  storepb::NodeObject n;
  n.set_id("00000000000000a1");
  n.set_hostname("Web-01");
  n.set_role(storepb::MANAGER);
  n.set_state(storepb::NodeObject::READY);
  n.mutable_spec()->set_availability(storepb::NodeSpec::ACTIVE);
  (*n.mutable_spec()->mutable_annotations()->mutable_labels())["zone"] = "East";
  (*n.mutable_spec()->mutable_annotations()->mutable_labels())["empty"] = "";
  n.mutable_description()->mutable_platform()->set_os("linux");
  n.mutable_description()->mutable_platform()->set_architecture("x86_64");
  (*n.mutable_description()->mutable_engine_labels())["disk"] = "ssd";
  return n;
}

// Parses `expr` (which must parse) and matches it against `node`.
bool holds(const std::string& expr, const storepb::NodeObject& node = sample_node()) {
  Result<Constraint> c = parse_constraint(expr);
  EXPECT_TRUE(c.ok()) << expr << ": " << c.status().message();
  if (!c.ok()) return false;
  return c->matches(node);
}

TEST(Constraint, ParsesKeyOperatorAndValue) {
  Result<Constraint> eq = parse_constraint("node.labels.zone==east");
  ASSERT_TRUE(eq.ok()) << eq.status().message();
  EXPECT_EQ(eq->key, "node.labels.zone");
  EXPECT_EQ(eq->op, Constraint::Op::kEq);
  EXPECT_EQ(eq->value, "east");

  Result<Constraint> ne = parse_constraint("node.role!=worker");
  ASSERT_TRUE(ne.ok()) << ne.status().message();
  EXPECT_EQ(ne->key, "node.role");
  EXPECT_EQ(ne->op, Constraint::Op::kNe);
  EXPECT_EQ(ne->value, "worker");
}

TEST(Constraint, NodeId) {
  EXPECT_TRUE(holds("node.id==00000000000000a1"));
  EXPECT_FALSE(holds("node.id==00000000000000a2"));
  EXPECT_TRUE(holds("node.id!=00000000000000a2"));
  EXPECT_FALSE(holds("node.id!=00000000000000a1"));
}

TEST(Constraint, NodeIdIsMatchedExactly) {
  EXPECT_FALSE(holds("node.id==00000000000000A1"));
  EXPECT_TRUE(holds("node.id!=00000000000000A1"));
}

TEST(Constraint, Hostname) {
  EXPECT_TRUE(holds("node.hostname==Web-01"));
  EXPECT_FALSE(holds("node.hostname==web-02"));
  EXPECT_TRUE(holds("node.hostname!=web-02"));
  EXPECT_FALSE(holds("node.hostname!=Web-01"));
}

TEST(Constraint, Role) {
  EXPECT_TRUE(holds("node.role==manager"));
  EXPECT_FALSE(holds("node.role==worker"));
  EXPECT_TRUE(holds("node.role!=worker"));
  EXPECT_FALSE(holds("node.role!=manager"));
}

TEST(Constraint, PlatformOs) {
  EXPECT_TRUE(holds("node.platform.os==linux"));
  EXPECT_FALSE(holds("node.platform.os==windows"));
  EXPECT_TRUE(holds("node.platform.os!=windows"));
  EXPECT_FALSE(holds("node.platform.os!=linux"));
}

TEST(Constraint, PlatformArch) {
  EXPECT_TRUE(holds("node.platform.arch==x86_64"));
  EXPECT_FALSE(holds("node.platform.arch==aarch64"));
  EXPECT_TRUE(holds("node.platform.arch!=aarch64"));
  EXPECT_FALSE(holds("node.platform.arch!=x86_64"));
}

TEST(Constraint, NodeLabels) {
  EXPECT_TRUE(holds("node.labels.zone==east"));
  EXPECT_FALSE(holds("node.labels.zone==west"));
  EXPECT_TRUE(holds("node.labels.zone!=west"));
  EXPECT_FALSE(holds("node.labels.zone!=east"));
}

TEST(Constraint, EngineLabels) {
  EXPECT_TRUE(holds("engine.labels.disk==ssd"));
  EXPECT_FALSE(holds("engine.labels.disk==hdd"));
  EXPECT_TRUE(holds("engine.labels.disk!=hdd"));
  EXPECT_FALSE(holds("engine.labels.disk!=ssd"));
  // Node labels and engine labels are separate maps.
  EXPECT_FALSE(holds("engine.labels.zone==east"));
  EXPECT_FALSE(holds("node.labels.disk==ssd"));
}

TEST(Constraint, MissingLabelNeverEqualsAnything) {
  EXPECT_FALSE(holds("node.labels.rack==r1"));
  EXPECT_TRUE(holds("node.labels.rack!=r1"));
  EXPECT_FALSE(holds("engine.labels.gpu==yes"));
  EXPECT_TRUE(holds("engine.labels.gpu!=yes"));
  // A label that is present but empty does not equal a value either.
  EXPECT_FALSE(holds("node.labels.empty==x"));
  EXPECT_TRUE(holds("node.labels.empty!=x"));
}

TEST(Constraint, NodeWithoutDescriptionHasNoPlatform) {
  storepb::NodeObject bare;
  bare.set_id("00000000000000b2");
  EXPECT_FALSE(holds("node.platform.os==linux", bare));
  EXPECT_TRUE(holds("node.platform.os!=linux", bare));
  EXPECT_FALSE(holds("node.hostname==web-01", bare));
}

TEST(Constraint, WhitespaceAroundKeyOperatorAndValueIsIgnored) {
  for (const std::string expr : {"  node.labels.zone==east", "node.labels.zone  ==east", "node.labels.zone==  east",
                                 "node.labels.zone==east  ", "\tnode.labels.zone \t== \teast\t", " node.labels.zone == east "}) {
    Result<Constraint> c = parse_constraint(expr);
    ASSERT_TRUE(c.ok()) << "[" << expr << "]: " << c.status().message();
    EXPECT_EQ(c->key, "node.labels.zone") << "[" << expr << "]";
    EXPECT_EQ(c->value, "east") << "[" << expr << "]";
    EXPECT_TRUE(c->matches(sample_node())) << "[" << expr << "]";
  }
  EXPECT_FALSE(holds(" node.labels.zone != east "));
}

TEST(Constraint, ValuesAreCaseInsensitive) {
  EXPECT_TRUE(holds("node.labels.zone==EAST"));  // the label says "East"
  EXPECT_TRUE(holds("node.hostname==WEB-01"));
  EXPECT_TRUE(holds("node.role==Manager"));
  EXPECT_TRUE(holds("node.platform.os==Linux"));
  EXPECT_TRUE(holds("node.platform.arch==X86_64"));
  EXPECT_TRUE(holds("engine.labels.disk==SSD"));
  EXPECT_FALSE(holds("node.labels.zone!=eAsT"));
}

TEST(Constraint, KeysAreCaseInsensitiveButLabelNamesAreNot) {
  Result<Constraint> c = parse_constraint("NODE.Role==manager");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->key, "node.role");
  EXPECT_TRUE(c->matches(sample_node()));

  Result<Constraint> label = parse_constraint("Node.Labels.zone==east");
  ASSERT_TRUE(label.ok()) << label.status().message();
  EXPECT_EQ(label->key, "node.labels.zone");
  EXPECT_TRUE(label->matches(sample_node()));

  // Docker's label names are case-sensitive: "Zone" is another label, which the node lacks.
  EXPECT_FALSE(holds("node.labels.Zone==east"));
  EXPECT_TRUE(holds("node.labels.Zone!=east"));
}

TEST(Constraint, LabelNamesMayHoldDotsDashesAndUnderscores) {
  storepb::NodeObject n = sample_node();
  (*n.mutable_spec()->mutable_annotations()->mutable_labels())["com.example.my-rack_id"] = "r7";
  EXPECT_TRUE(holds("node.labels.com.example.my-rack_id==r7", n));
}

TEST(Constraint, ValuesMayHoldSwarmkitsCharacters) {
  storepb::NodeObject n = sample_node();
  (*n.mutable_spec()->mutable_annotations()->mutable_labels())["path"] = "/srv/data:1 (a.b)*?+[]^$|\\";
  EXPECT_TRUE(holds("node.labels.path==/srv/data:1 (a.b)*?+[]^$|\\", n));
}

// Every malformed form is refused with invalid_argument, and the message names the expression
// and what is wrong with it.
struct Malformed {
  std::string expr;
  std::string why;  // a part of the message
};

TEST(Constraint, MalformedExpressionsAreRefusedNamingTheExpression) {
  const std::vector<Malformed> cases = {
      {"node.role=manager", "no operator"},
      {"node.role", "no operator"},
      {"", "no operator"},
      {"node.role>manager", "no operator"},
      {"==manager", "empty key"},
      {"   !=manager", "empty key"},
      {"node.role==", "empty value"},
      {"node.role!=   ", "empty value"},
      {"node.rol==manager", "unknown key \"node.rol\""},
      {"labels.zone==east", "unknown key \"labels.zone\""},
      {"node.label.zone==east", "unknown key \"node.label.zone\""},
      {"node.labels.==east", "names no label"},
      {"engine.labels.==ssd", "names no label"},
      {"node.labels.zo ne==east", "label name \"zo ne\""},
      {"node.labels.zone==a==b", "value \"a==b\" may not hold '='"},
      {"node.role==<manager", "may not hold '<'"},
      {"node.role==!worker", "may not hold '!'"},
      {"node.role==manag~er", "may not hold '~'"},
  };
  for (const auto& m : cases) {
    Result<Constraint> c = parse_constraint(m.expr);
    ASSERT_FALSE(c.ok()) << "[" << m.expr << "] parsed";
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << "[" << m.expr << "]";
    const std::string msg = c.status().message();
    EXPECT_NE(msg.find("\"" + m.expr + "\""), std::string::npos) << "[" << m.expr << "]: " << msg;
    EXPECT_NE(msg.find(m.why), std::string::npos) << "[" << m.expr << "]: " << msg;
  }
}

TEST(Constraint, FirstOperatorSplits) {
  // `!=` first: the key is node.labels.a, the value "b"; `==` later in the value is refused.
  Result<Constraint> ok = parse_constraint("node.labels.a!=b");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->op, Constraint::Op::kNe);
  Result<Constraint> bad = parse_constraint("node.labels.a!=b==c");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("value \"b==c\""), std::string::npos) << bad.status().message();
}

TEST(Constraint, ParseConstraintsKeepsOrder) {
  google::protobuf::RepeatedPtrField<std::string> exprs;
  exprs.Add("node.role==manager");
  exprs.Add("node.labels.zone != west");
  Result<std::vector<Constraint>> cs = parse_constraints(exprs);
  ASSERT_TRUE(cs.ok()) << cs.status().message();
  ASSERT_EQ(cs->size(), 2u);
  EXPECT_EQ((*cs)[0].key, "node.role");
  EXPECT_EQ((*cs)[1].key, "node.labels.zone");
  EXPECT_EQ((*cs)[1].op, Constraint::Op::kNe);
  EXPECT_EQ((*cs)[1].value, "west");
}

TEST(Constraint, ParseConstraintsOfNoneIsEmpty) {
  google::protobuf::RepeatedPtrField<std::string> exprs;
  Result<std::vector<Constraint>> cs = parse_constraints(exprs);
  ASSERT_TRUE(cs.ok());
  EXPECT_TRUE(cs->empty());
}

TEST(Constraint, ParseConstraintsReportsTheBadOne) {
  google::protobuf::RepeatedPtrField<std::string> exprs;
  exprs.Add("node.role==manager");
  exprs.Add("node.zone==east");
  exprs.Add("node.labels.zone==west");
  Result<std::vector<Constraint>> cs = parse_constraints(exprs);
  ASSERT_FALSE(cs.ok());
  EXPECT_EQ(cs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cs.status().message().find("\"node.zone==east\""), std::string::npos) << cs.status().message();
}

}  // namespace
}  // namespace shoal::scheduler
