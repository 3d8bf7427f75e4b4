app:
  lookup:
    port: 9090
  users: [alice]
