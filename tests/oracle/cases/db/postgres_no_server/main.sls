app:
  postgres_user.present:
    - password: secret
    - createdb: True
appdb:
  postgres_database.present:
    - owner: app
old:
  postgres_user.absent: []
olddb:
  postgres_database.absent: []
