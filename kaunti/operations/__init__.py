"""Operations: backups of the database and stored files, their restore, and the drill."""
