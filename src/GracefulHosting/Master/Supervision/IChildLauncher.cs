namespace GracefulHosting.Master.Supervision;

/// <summary>Starts the process of one generation: the supervision's only way to create a child.</summary>
internal interface IChildLauncher
{
    /// <summary>
    /// Starts generation <paramref name="generation"/>. Throws <see cref="InvalidOperationException"/>,
    /// <see cref="System.ComponentModel.Win32Exception"/> or <see cref="IOException"/> when it cannot.
    /// </summary>
    IChild Launch(int generation);
}
