namespace GrpcLoad;

// How one Ticks stream ended, and where the same client's next Ticks call landed.
internal sealed record StreamEnding(
    int Pid,
    long Ticks,
    string Status,
    string Detail,
    double EndedAtMs,
    int ReopenedPid,
    string ReopenStatus,
    double ReopenedAtMs);
