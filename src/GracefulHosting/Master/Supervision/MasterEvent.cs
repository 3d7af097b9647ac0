namespace GracefulHosting.Master.Supervision;

/// <summary>Something the supervision must answer. The loop takes them one at a time, in order.</summary>
internal abstract record MasterEvent;
