namespace GracefulHosting.Master.Supervision;

/// <summary>The crash backoff numbered <paramref name="Attempt"/> has passed.</summary>
internal sealed record BackoffElapsed(int Attempt) : MasterEvent;
