namespace GracefulHosting;

/// <summary>
/// What this process is under <c>AddGracefulRestart()</c>: the master, a child of a given generation,
/// and so on. Registered in the service container in every role, so code between <c>Build()</c> and
/// <c>Run()</c>, which runs in the master as well as in every generation, can ask before it does
/// something that must not happen in the master (a database migration, a file write).
/// </summary>
/// <example>
/// <code>
/// var app = builder.Build();
/// if (app.Services.GetRequiredService&lt;IGracefulRestartContext&gt;().RunsApp)
/// {
///     await MigrateDatabaseAsync(app.Services);
/// }
/// app.Run();
/// </code>
/// </example>
public interface IGracefulRestartContext
{
    /// <summary>The role of this process.</summary>
    GracefulRestartRole Role { get; }

    /// <summary>The generation of this child: 1 for the first the master started, then 2, 3, ...; 0 in every other role.</summary>
    int Generation { get; }

    /// <summary>
    /// True when this process serves the app: every role but <see cref="GracefulRestartRole.Master"/>.
    /// Guard side effects of start-up code with it.
    /// </summary>
    bool RunsApp => Role != GracefulRestartRole.Master;
}
