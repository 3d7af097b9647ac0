namespace GracefulHosting;

/// <summary>The order of the steps of a restart.</summary>
public enum RestartStrategy
{
    /// <summary>Start the new generation, wait until it is ready, then stop the old one.</summary>
    StartFirst,

    /// <summary>Stop the old generation and wait for it to exit, then start the new one.</summary>
    StopFirst,
}
