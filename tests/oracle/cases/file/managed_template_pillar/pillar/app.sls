app:
  port: 8443
