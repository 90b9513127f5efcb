// A bounded first-in-first-out hand-over from one producer thread to one consumer thread. The
// producer waits while the consumer is behind, so memory stays bounded by what is in flight,
// not by the heap.
//
//   BoundedQueue<Job> jobs(4);
//   std::thread worker([&] { while (auto job = jobs.Pop()) { Run(*job); jobs.Done(); } });
//   jobs.Push(job);     // waits while 4 jobs are in flight
//   jobs.Close();       // the worker drains what is left, then Pop returns nullopt
//   worker.join();
//
// An item is in flight from Push until the consumer calls Done() after popping it. Items pushed
// as heavy (a long job holding much memory) count against heavy_capacity instead of capacity,
// so that ordinary items keep flowing past one; Done() releases the oldest popped item.
#ifndef HEAPSNAP_BASE_BOUNDED_QUEUE_H_
#define HEAPSNAP_BASE_BOUNDED_QUEUE_H_

#include <cassert>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace heapsnap {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity, size_t heavy_capacity = 0)
      : capacity_(capacity), heavy_capacity_(heavy_capacity) {
    assert(capacity > 0);
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Waits for room, then queues item. False (and the item dropped) once cancelled.
  bool Push(T item, bool heavy = false) {
    assert(!heavy || heavy_capacity_ > 0);
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] {
      return cancelled_ || (heavy ? heavy_in_flight_ < heavy_capacity_
                                  : in_flight_ - heavy_in_flight_ < capacity_);
    });
    if (cancelled_) return false;
    ++in_flight_;
    if (heavy) ++heavy_in_flight_;
    items_.push_back({std::move(item), heavy});
    lock.unlock();
    cv_.notify_all();
    return true;
  }

  // Waits for an item. nullopt once closed and drained, or cancelled.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return cancelled_ || closed_ || !items_.empty(); });
    if (cancelled_ || items_.empty()) return std::nullopt;
    Entry entry = std::move(items_.front());
    items_.pop_front();
    popped_heavy_.push_back(entry.heavy);
    return std::optional<T>(std::move(entry.item));
  }

  // The consumer has finished with the oldest item it popped: it leaves the flight.
  void Done() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      assert(!popped_heavy_.empty());
      if (popped_heavy_.front()) --heavy_in_flight_;
      popped_heavy_.pop_front();
      --in_flight_;
    }
    cv_.notify_all();
  }

  // No more items will come: Pop returns the rest, then nullopt.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  // Stops both sides at once: what is queued is dropped, Push and Pop return without waiting.
  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

  // Waits until every item pushed so far is done (or the queue is cancelled).
  void WaitUntilIdle() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return cancelled_ || in_flight_ == 0; });
  }

  // Items pushed and not yet done.
  size_t in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_flight_;
  }

 private:
  struct Entry {
    T item;
    bool heavy;
  };
  const size_t capacity_;
  const size_t heavy_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Entry> items_;
  std::deque<bool> popped_heavy_;  // heaviness of the items popped and not yet done
  size_t in_flight_ = 0;
  size_t heavy_in_flight_ = 0;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_BOUNDED_QUEUE_H_
