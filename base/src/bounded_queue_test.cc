#include "heapsnap/base/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace heapsnap {
namespace {

TEST(BoundedQueue, DeliversEveryItemInOrderThenEndsWhenClosed) {
  BoundedQueue<int> queue(3);
  std::vector<int> seen;
  std::thread consumer([&] {
    while (auto item = queue.Pop()) {
      seen.push_back(*item);
      queue.Done();
    }
  });
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(queue.Push(i));
  queue.Close();
  consumer.join();
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], i);
}

TEST(BoundedQueue, ProducerWaitsWhileCapacityIsInFlight) {
  BoundedQueue<int> queue(2);
  ASSERT_TRUE(queue.Push(1));
  ASSERT_TRUE(queue.Push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    (void)queue.Push(3);
    pushed = true;
  });
  // Popping alone does not free a place: the item is in flight until Done().
  ASSERT_EQ(*queue.Pop(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(pushed.load());
  queue.Done();
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(queue.in_flight(), 2u);
}

TEST(BoundedQueue, HeavyItemsHaveTheirOwnLimitAndLetOrdinaryOnesPass) {
  BoundedQueue<int> queue(1, 1);
  ASSERT_TRUE(queue.Push(1, /*heavy=*/true));
  ASSERT_TRUE(queue.Push(2));  // the heavy item does not count against the ordinary limit
  EXPECT_EQ(queue.in_flight(), 2u);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    (void)queue.Push(3, /*heavy=*/true);
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(pushed.load());
  ASSERT_EQ(*queue.Pop(), 1);
  queue.Done();  // releases the heavy one
  producer.join();
  EXPECT_TRUE(pushed.load());
}

TEST(BoundedQueue, CancelReleasesAWaitingProducerAndConsumer) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  bool result = true;
  std::thread producer([&] { result = queue.Push(2); });
  queue.Cancel();
  producer.join();
  EXPECT_FALSE(result);
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST(BoundedQueue, WaitUntilIdleReturnsOnceEveryItemIsDone) {
  BoundedQueue<int> queue(4);
  std::atomic<int> done{0};
  std::thread consumer([&] {
    while (auto item = queue.Pop()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++done;
      queue.Done();
    }
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(queue.Push(i));
  queue.WaitUntilIdle();
  EXPECT_EQ(done.load(), 20);
  queue.Close();
  consumer.join();
}

}  // namespace
}  // namespace heapsnap
