/// The simulator's agenda: a binary min-heap of `(time, sequence)` keys.
///
/// The sequence number is assigned at insertion, so events due at the same
/// instant run in the order they were scheduled and a run is reproducible.
/// The heap holds only small plain keys; the events themselves sit in a slot
/// array with a free list, so sifting moves 24 bytes, not enum payloads.
/// Deliberately not generic: unspecialised generics are slow in debug builds.
struct EventQueue {
    private struct Key {
        var time: UInt64
        var sequence: UInt64
        var slot: Int
    }

    private var heap: [Key] = []
    private var slots: [SimEvent] = []
    private var freeSlots: [Int] = []
    private var nextSequence: UInt64 = 0

    init() {
        heap.reserveCapacity(1 << 14)
        slots.reserveCapacity(1 << 14)
    }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// Time of the earliest event, if any.
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ event: SimEvent, at time: UInt64) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[free] = event
        } else {
            slot = slots.count
            slots.append(event)
        }
        nextSequence &+= 1
        heap.append(Key(time: time, sequence: nextSequence, slot: slot))
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest event.
    mutating func pop() -> (time: UInt64, event: SimEvent)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        let event = slots[top.slot]
        slots[top.slot] = .vacant
        freeSlots.append(top.slot)
        return (top.time, event)
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        let key = heap[i]
        while i > 0 {
            let parent = (i - 1) >> 1
            let p = heap[parent]
            // `less`, written out: debug builds do not inline.
            guard key.time < p.time || (key.time == p.time && key.sequence < p.sequence) else { break }
            heap[i] = p
            i = parent
        }
        heap[i] = key
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        let key = heap[i]
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var child = left
            let right = left + 1
            var c = heap[left]
            if right < n {
                let r = heap[right]
                if r.time < c.time || (r.time == c.time && r.sequence < c.sequence) {
                    child = right
                    c = r
                }
            }
            guard c.time < key.time || (c.time == key.time && c.sequence < key.sequence) else { break }
            heap[i] = c
            i = child
        }
        heap[i] = key
    }
}
