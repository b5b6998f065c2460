import ArgumentParser
import Foundation

@main
struct Grove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grove",
        abstract: "A self-hostable, Platform.sh-compatible PaaS: `grove serve` runs it, the other commands manage it.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, GitHookCommand.self, GitCredentialCommand.self, AdminUserCreate.self, AdminGrant.self,
            Push.self, ProjectSetRemote.self, EnvironmentCheckout.self, RepoLs.self, RepoCat.self, RepoLog.self,
            EnvironmentURL.self, RouteList.self, RouteGet.self, AppList.self, AppConfigGet.self, AppConfigValidate.self, SSHCommand.self, SSHCertLoad.self, SSHAuthorizeHelper.self, SSHRelayHelper.self, TunnelSingle.self, TunnelOpen.self, TunnelList.self, TunnelClose.self, MountUpload.self, MountDownload.self,
            DomainAdd.self, DomainList.self, DomainDelete.self, CertificateAdd.self, CertificateList.self, CertificateDelete.self,
            SourceOperationList.self, SourceOperationRun.self, OperationList.self, OperationRun.self, LogCommand.self,
            ServiceList.self, Relationships.self, DbSql.self, DbDump.self,
            BackupCreate.self, BackupList.self, BackupGet.self, BackupRestore.self, BackupDelete.self,
            AuthAPITokenLogin.self, AuthInfo.self, AuthLogout.self,
            OrganizationList.self, OrganizationCreate.self, OrganizationInfo.self,
            ProjectList.self, ProjectCreate.self, ProjectInfo.self, ProjectDelete.self,
            EnvironmentList.self, EnvironmentInfo.self, EnvironmentBranch.self, EnvironmentActivate.self, EnvironmentDeactivate.self,
            EnvironmentRedeploy.self, EnvironmentInit.self, EnvironmentPause.self, EnvironmentResume.self, EnvironmentMerge.self, EnvironmentSynchronize.self,
            EnvironmentDelete.self, SystemInfo.self,
            VariableCreate.self, VariableList.self, VariableGet.self, VariableUpdate.self, VariableDelete.self,
            ActivityList.self, ActivityGet.self, ActivityLog.self, ActivityCancel.self,
            UserList.self, UserAdd.self, UserGet.self, UserUpdate.self, UserDelete.self, TeamCreate.self, TeamList.self, TeamUserAdd.self,
            TeamProjectAdd.self, OrganizationUserAdd.self, OrganizationUserList.self, SSHKeyAdd.self, SSHKeyList.self, SSHKeyDelete.self, AuthMFA.self,
            IntegrationList.self, IntegrationAdd.self, IntegrationGet.self, IntegrationUpdate.self, IntegrationDelete.self, IntegrationActivityList.self,
        ]
    )
}
