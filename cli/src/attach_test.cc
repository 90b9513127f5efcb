#include "attach.h"

#include <gtest/gtest.h>

namespace heapsnap::cli {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Attach, ParsesProcStatus) {
  const char* text =
      "Name:\tpython3.11\nUmask:\t0022\nState:\tT (stopped)\nTgid:\t42\nPid:\t42\n"
      "TracerPid:\t7\nUid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\n"
      "Groups:\t4 24 27 \n";
  StatusOr<ProcessStatus> status = ParseProcessStatus(text);
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(status->name, "python3.11");
  EXPECT_EQ(status->state, 'T');
  EXPECT_EQ(status->tracer_pid, 7);
  EXPECT_EQ(status->uids, (std::vector<uid_t>{1000, 1001, 1002, 1003}));
  EXPECT_EQ(status->gids, (std::vector<gid_t>{100, 101, 102, 103}));
  EXPECT_EQ(status->groups, (std::vector<gid_t>{4, 24, 27}));
  EXPECT_FALSE(ParseProcessStatus("Name:\tx\n").ok());
}

TEST(Attach, FindsThePythonVersionFromMapsOrExecutable) {
  auto from_maps =
      PythonVersionOf("7f00-7f10 r-xp 0 08:01 5 /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n",
                      "/usr/bin/uwsgi");
  ASSERT_TRUE(from_maps);
  EXPECT_EQ(from_maps->major, 3);
  EXPECT_EQ(from_maps->minor, 11);
  auto from_exe = PythonVersionOf("", "/root/.pyenv/versions/3.8.18/bin/python3.8");
  ASSERT_TRUE(from_exe);
  EXPECT_EQ(from_exe->minor, 8);
  EXPECT_FALSE(PythonVersionOf("", "/usr/bin/sleep"));
  EXPECT_FALSE(PythonVersionOf("", "/usr/bin/python3"));  // no minor: gdb decides
}

TEST(Attach, ListsBuiltVersions) {
  EXPECT_EQ(BuiltVersions({"_heapsnap_030d00f0.cpython-313-x86_64-linux-gnu.so", "__init__.py",
                           "_heapsnap_030812f0.cpython-38-x86_64-linux-gnu.so",
                           "_heapsnap_030e00a1.cpython-314-x86_64-linux-gnu.so", "testing.py"}),
            (std::vector<std::string>{"3.8.18", "3.13.0", "3.14.0a1"}));
}

TEST(Attach, ClassifiesWhatGdbSaid) {
  EXPECT_TRUE(ClassifyGdbOutput("heapsnap-attach: attached 1 threads\nheapsnap-attach: spawned\n"
                                "heapsnap-attach: detached\n",
                                42, 30)
                  .ok());
  const Status denied =
      ClassifyGdbOutput("Attaching to process 42\nptrace: Operation not permitted.\n", 42, 30);
  EXPECT_FALSE(denied.ok());
  EXPECT_TRUE(Contains(denied.message(), "SYS_PTRACE")) << denied.message();
  EXPECT_TRUE(Contains(denied.message(), "ptrace_scope")) << denied.message();
  const Status gone = ClassifyGdbOutput("ptrace: No such process.\n", 42, 30);
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  const Status not_python =
      ClassifyGdbOutput("heapsnap-attach: not-python\nheapsnap-attach: detached\n", 42, 30);
  EXPECT_TRUE(Contains(not_python.message(), "is not a CPython process")) << not_python.message();
  const Status timeout = ClassifyGdbOutput(
      "heapsnap-attach: waiting for a safe point\nheapsnap-attach: no-safe-point\n", 42, 3);
  EXPECT_TRUE(Contains(timeout.message(), "within 3 s")) << timeout.message();
  EXPECT_TRUE(Contains(timeout.message(), "--timeout")) << timeout.message();
  const Status unreadable = ClassifyGdbOutput(
      "heapsnap-attach: cannot-read-library /opt/heapsnap/lib/heapsnap/attach/x.so\n", 42, 30);
  EXPECT_TRUE(Contains(unreadable.message(), "/opt/heapsnap/lib/heapsnap/attach/x.so"));
  const Status dlopen = ClassifyGdbOutput(
      "heapsnap-attach: dlopen-failed undefined symbol: PyGILState_Ensure\n", 42, 30);
  EXPECT_TRUE(Contains(dlopen.message(), "undefined symbol: PyGILState_Ensure"));
  const Status other =
      ClassifyGdbOutput("warning: something\nCould not attach: reason\n\n", 42, 30);
  EXPECT_TRUE(Contains(other.message(), "Could not attach: reason")) << other.message();
}

}  // namespace
}  // namespace heapsnap::cli
