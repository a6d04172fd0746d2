using System.Diagnostics;
using System.Numerics;

namespace Voting.LoadGen.Measuring;

/// <summary>
/// Latencies in fixed buckets, recorded from many threads without locks or allocations: microseconds below 64 µs
/// exactly, then 32 buckets per power of two (a bucket is at most 1/32 of its value wide, so a percentile is within
/// about 3 %). Values are read back as the upper edge of their bucket.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits; // 32 per power of two
    private const int LinearLimit = 2 * SubBuckets; // 0..63 µs: one bucket per microsecond
    private const int MaxExponent = 31; // up to 2^37 µs, about 38 hours
    private const int BucketCount = LinearLimit + MaxExponent * SubBuckets;
    private static readonly long MaxMicroseconds = (1L << (MaxExponent + SubBucketBits + 1)) - 1;

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sumMicroseconds;
    private long _maxMicroseconds;

    public long Count => Volatile.Read(ref _count);

    public TimeSpan Max => TimeSpan.FromMicroseconds(Volatile.Read(ref _maxMicroseconds));

    public TimeSpan Mean => Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds((double)Volatile.Read(ref _sumMicroseconds) / Count);

    /// <summary>Records the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void RecordSince(long startTimestamp) =>
        Record((long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);

    public void Record(long microseconds)
    {
        microseconds = Math.Clamp(microseconds, 0, MaxMicroseconds);
        Interlocked.Increment(ref _counts[BucketOf(microseconds)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicroseconds, microseconds);
        var max = Volatile.Read(ref _maxMicroseconds);
        while (microseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxMicroseconds, microseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>The latency below which <paramref name="percent"/> % of the recorded ones are (0 when nothing was recorded).</summary>
    public TimeSpan Percentile(double percent)
    {
        var count = Count;
        if (count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * count));
        long seen = 0;
        for (var bucket = 0; bucket < BucketCount; bucket++)
        {
            seen += Volatile.Read(ref _counts[bucket]);
            if (seen >= rank)
            {
                // No bucket's edge is above the largest value recorded.
                return TimeSpan.FromMicroseconds(Math.Min(UpperEdge(bucket), Volatile.Read(ref _maxMicroseconds)));
            }
        }

        return Max;
    }

    /// <summary>Forgets everything recorded (for interval histograms; not atomic with concurrent recording).</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _sumMicroseconds, 0);
        Volatile.Write(ref _maxMicroseconds, 0);
    }

    internal static int BucketOf(long microseconds)
    {
        if (microseconds < LinearLimit)
        {
            return (int)microseconds;
        }

        // microseconds >= 64: the top bit is at position 6 or above; keep the 6 bits from it (32..63) as the sub-bucket.
        var shift = BitOperations.Log2((ulong)microseconds) - SubBucketBits;
        return LinearLimit + ((shift - 1) * SubBuckets) + (int)(microseconds >> shift) - SubBuckets;
    }

    internal static long UpperEdge(int bucket)
    {
        if (bucket < LinearLimit)
        {
            return bucket;
        }

        var shift = ((bucket - LinearLimit) / SubBuckets) + 1;
        var sub = ((bucket - LinearLimit) % SubBuckets) + SubBuckets;
        return ((long)(sub + 1) << shift) - 1;
    }
}
