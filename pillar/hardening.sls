# Settings of the hardening formula (formulas/hardening); the defaults, with
# the sysctl and sshd settings, are in hardening/defaults.yaml.
hardening:
  pass_max_days: 90
  banner: Authorized access only. Activity on this system is monitored and logged.
