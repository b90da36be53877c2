; Inno Setup script: the Windows installer around the folder that `make dist` makes (dist\klezguard).
; scripts/build_dist.py runs it where Inno Setup 6's compiler is installed:
;   iscc /DAppVersion=0.1.0 /DDist=C:\path\to\dist /OC:\path\to\dist packaging\windows\klezguard.iss
; It installs for the current user (no administrator needed), adds a Start menu entry, optionally starts
; KlezGuard at sign-in (the same Run value the app's Settings switch writes, klezguard/autostart.py), and
; its uninstaller removes the program, the entries and that Run value; mail data and settings stay.
; UNTESTED: written without a Windows machine to build or run it on.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef Dist
  #define Dist "..\..\dist"
#endif

[Setup]
AppId={{B7A8F979-5535-4495-999F-F70E2C21CE01}
AppName=KlezGuard
AppVersion={#AppVersion}
AppPublisher=The KlezGuard developers
DefaultDirName={autopf}\KlezGuard
DefaultGroupName=KlezGuard
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=KlezGuard-{#AppVersion}-setup
SetupIconFile=..\icons\klezguard.ico
UninstallDisplayIcon={app}\klezguard.exe
UninstallDisplayName=KlezGuard
CloseApplications=yes
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "startatlogin"; Description: "Start KlezGuard when I sign in (it watches your mail from the tray)"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

[Files]
Source: "{#Dist}\klezguard\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\KlezGuard"; Filename: "{app}\klezguard.exe"; Comment: "A second pair of eyes on your mailbox"
Name: "{autodesktop}\KlezGuard"; Filename: "{app}\klezguard.exe"; Tasks: desktopicon

[Registry]
; start at login, as chosen in the installer; the value name is the one klezguard/autostart.py uses
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "KlezGuard"; \
    ValueData: """{app}\klezguard.exe"" --tray"; Flags: uninsdeletevalue; Tasks: startatlogin
; switched on later in the app's Settings: removed at uninstall all the same (nothing is written here)
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "KlezGuard"; \
    Flags: uninsdeletevalue

[Run]
Filename: "{app}\klezguard.exe"; Description: "{cm:LaunchProgram,KlezGuard}"; Flags: nowait postinstall skipifsilent
