namespace GracefulHosting.Master.Supervision;

// The supervision's only way to create a child, so that unit tests can give it fakes.
internal interface IChildLauncher
{
    // Throws InvalidOperationException, Win32Exception or IOException when it cannot start one.
    IChild Launch(int generation);
}
